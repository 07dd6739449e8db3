"""Local adaptive shifting against a NumPy transcription of BoolNet's official code
(PyTorch batch norms: ε = 1e-5, momentum 0.1), in training and inference mode."""

from lab_bnn.errors import UserError
from lab_bnn.layers import LocalAdaptiveShift

import numpy as np
import pytest
import tensorflow as tf

import numpy_official as official
import numpy_reference as ref


def _shared_weights(layer, rng, channels):
    """Random γ, β, running statistics for the three BNs (Keras and PyTorch alike)."""
    weights = {}
    for bn in (layer.bn_direct, layer.bn_context, layer.bn_shift):
        weights[bn.name] = [
            rng.randn(channels),
            rng.randn(channels),
            rng.randn(channels),
            rng.rand(channels) + 0.5,
        ]
        bn.set_weights(weights[bn.name])
    torch_bns = [
        official.TorchBatchNorm2d(*weights[bn.name])
        for bn in (layer.bn_direct, layer.bn_context, layer.bn_shift)
    ]
    return torch_bns, layer.depthwise.depthwise_kernel.numpy()


@pytest.mark.parametrize("shape", [(2, 6, 6, 4), (3, 2, 2, 3), (4, 1, 1, 2)])
def test_matches_the_official_code_in_training_then_inference(rng, shape):
    layer = LocalAdaptiveShift()
    x = (rng.randn(*shape) * 2 + 0.5).astype(np.float32)
    layer(x)
    (bn1, bn2, bn_zero_point), kernel = _shared_weights(layer, rng, shape[-1])
    for step in range(3):  # training steps move the running statistics as PyTorch does
        batch = (x + step * 0.3).astype(np.float32)
        expected = official.local_adaptive_shift_official(
            batch, bn1, bn2, bn_zero_point, kernel, training=True
        )
        np.testing.assert_allclose(layer(batch, training=True).numpy(), expected, rtol=1e-5, atol=1e-5)
    for keras_bn, torch_bn in zip(
        (layer.bn_direct, layer.bn_context, layer.bn_shift), (bn1, bn2, bn_zero_point)
    ):
        np.testing.assert_allclose(keras_bn.moving_mean.numpy(), torch_bn.running_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            keras_bn.moving_variance.numpy(), torch_bn.running_var, rtol=1e-5, atol=1e-6
        )
    expected = official.local_adaptive_shift_official(x, bn1, bn2, bn_zero_point, kernel, training=False)
    np.testing.assert_allclose(layer(x, training=False).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_keras_defaults_remain_an_argument(rng):
    """epsilon=1e-3, momentum=0.99: Keras' BatchNormalization defaults, lab_bnn's former ones."""
    layer = LocalAdaptiveShift(epsilon=1e-3, momentum=0.99)
    x = rng.randn(2, 5, 5, 3).astype(np.float32)
    layer(x)
    (bn1, bn2, bn_zero_point), kernel = _shared_weights(layer, rng, 3)
    for bn in (bn1, bn2, bn_zero_point):
        bn.eps, bn.momentum = 1e-3, 0.01
    for training in (True, False):
        expected = official.local_adaptive_shift_official(x, bn1, bn2, bn_zero_point, kernel, training)
        np.testing.assert_allclose(layer(x, training=training).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert {bn.epsilon for bn in (layer.bn_direct, layer.bn_context, layer.bn_shift)} == {1e-3}


def test_inference_matches_with_keras_weights_read_back(rng):
    layer = LocalAdaptiveShift()
    x = rng.randn(2, 6, 6, 4).astype(np.float32)
    layer(x)
    (bn1, bn2, bn_zero_point), kernel = _shared_weights(layer, rng, 4)
    direct = official.TorchBatchNorm2d(*layer.bn_direct.get_weights())
    expected = direct(x, False) + bn_zero_point(ref.depthwise_conv_same(bn2(x, False), kernel, 0.0), False)
    np.testing.assert_allclose(layer(x, training=False).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_config_round_trip_keeps_the_batch_norm_arguments():
    layer = LocalAdaptiveShift(epsilon=2e-4, momentum=0.5)
    config = layer.get_config()
    assert (config["epsilon"], config["momentum"]) == (2e-4, 0.5)
    clone = LocalAdaptiveShift.from_config(config)
    clone(tf.zeros((1, 4, 4, 2)))
    assert {(bn.epsilon, bn.momentum) for bn in (clone.bn_direct, clone.bn_context, clone.bn_shift)} == {
        (2e-4, 0.5)
    }


@pytest.mark.parametrize(
    "arguments,message",
    [
        ({"momentum": 0.1 + 0.9j}, r"momentum must be a number in \[0, 1\).*received \(0\.1\+0\.9j\)"),
        (
            {"momentum": 1.0},
            r"momentum must be a number in \[0, 1\).*PyTorch's momentum 0\.1 is 0\.9.*received 1\.0",
        ),
        ({"momentum": -0.1}, r"momentum must be a number in \[0, 1\).*received -0\.1"),
        ({"epsilon": 0.0}, r"epsilon must be a positive number; received 0\.0"),
        ({"epsilon": "1e-5"}, r"epsilon must be a positive number; received '1e-5'"),
    ],
)
def test_bad_batch_norm_arguments_are_one_clear_error(arguments, message):
    with pytest.raises(UserError, match=rf"LocalAdaptiveShift {message}"):
        LocalAdaptiveShift(**arguments)
