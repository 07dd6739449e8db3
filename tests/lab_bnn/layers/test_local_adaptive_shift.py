"""Local adaptive shifting against a NumPy transcription (inference mode)."""

from lab_bnn.layers import LocalAdaptiveShift

import numpy as np

import numpy_reference as ref


def batch_norm(x, gamma, beta, mean, variance, epsilon=1e-3):
    return gamma * (x - mean) / np.sqrt(variance + epsilon) + beta


def test_bn1_plus_bn_of_depthwise_of_bn2(rng):
    layer = LocalAdaptiveShift()
    x = rng.randn(2, 6, 6, 4).astype(np.float32)
    layer(x)
    stats = {
        bn.name: [rng.randn(4), rng.randn(4), rng.randn(4), rng.rand(4) + 0.5]
        for bn in (layer.bn_direct, layer.bn_context, layer.bn_shift)
    }
    for bn in (layer.bn_direct, layer.bn_context, layer.bn_shift):
        bn.set_weights(stats[bn.name])
    kernel = layer.depthwise.depthwise_kernel.numpy()
    expected = batch_norm(x, *stats[layer.bn_direct.name]) + batch_norm(
        ref.depthwise_conv_same(batch_norm(x, *stats[layer.bn_context.name]), kernel, 0.0),
        *stats[layer.bn_shift.name],
    )
    np.testing.assert_allclose(layer(x, training=False).numpy(), expected, rtol=1e-5, atol=1e-5)
