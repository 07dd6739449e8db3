"""BN fused into the multi-slice sign: the threshold form equals BN → sign."""

from lab_bnn.layers import BatchNormSign, slice_offsets

import numpy as np
import pytest

from conftest import assert_signs_match


@pytest.mark.parametrize("k", [1, 4])
def test_threshold_form_equals_batch_norm_then_sign(rng, k):
    layer = BatchNormSign(k)
    x = (rng.randn(4, 6, 6, 8) * 2 + 0.5).astype(np.float32)
    layer(x)
    gamma = rng.randn(8) * 1.5
    gamma[0] = 0.0  # a dead channel: BN gives the constant β
    layer.batch_norm.set_weights([gamma, rng.randn(8), rng.randn(8), rng.rand(8) + 0.5])
    trained = layer(x, training=False).numpy()
    normalized = layer.batch_norm(x, training=False).numpy()
    pre_sign = np.concatenate([normalized + b for b in slice_offsets(k)], axis=-1)
    assert_signs_match(layer.inference_form()(x).numpy(), trained, pre_sign)
    assert set(np.unique(trained)) <= {-1.0, 1.0}
