"""ReCUConv2D: the binary conv times its learnable per-channel scale."""

from lab_bnn.layers import ReCUConv2D

import larq as lq
import numpy as np


def test_output_is_binary_conv_times_scale(rng):
    layer = ReCUConv2D(5, 3, padding="same", use_bias=False)
    x = rng.randn(2, 6, 6, 4).astype(np.float32)
    layer(x)
    plain = lq.layers.QuantConv2D(
        5,
        3,
        padding="same",
        input_quantizer="recu_activation",
        kernel_quantizer="recu_weight",
        use_bias=False,
    )
    plain(x)
    plain.kernel.assign(layer.kernel)
    assert 0 < layer.scale.numpy().min() and layer.scale.numpy().max() < 1  # U(0, 1)
    np.testing.assert_allclose(layer(x).numpy(), plain(x).numpy() * layer.scale.numpy(), rtol=1e-5, atol=1e-5)
