"""BN fused into the multi-slice sign: the threshold form equals BN → sign."""

from lab_bnn.errors import UserError
from lab_bnn.layers import BatchNormSign, slice_offsets

import numpy as np
import pytest
import tensorflow as tf

import numpy_official as official
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


@pytest.mark.parametrize("k", [1, 2, 4])
def test_batch_norm_matches_the_official_code_in_training_then_inference(rng, k):
    """BoolNet's BN before the sign is PyTorch's BatchNorm2d: ε = 1e-5, momentum 0.1."""
    layer = BatchNormSign(k)
    x = (rng.randn(4, 5, 5, 6) * 2 + 0.5).astype(np.float32)
    layer(x)
    weights = [rng.randn(6), rng.randn(6), rng.randn(6), rng.rand(6) + 0.5]
    layer.batch_norm.set_weights(weights)
    torch_bn = official.TorchBatchNorm2d(*weights)
    for step in range(3):
        batch = (x - step * 0.2).astype(np.float32)
        expected = torch_bn(batch, training=True)
        np.testing.assert_allclose(
            layer.batch_norm(batch, training=True).numpy(), expected, rtol=1e-5, atol=1e-5
        )
        signs = layer(batch, training=False)  # no update, so the running stats stay in step
        assert signs.shape[-1] == 6 * k
    expected = torch_bn(x, training=False)
    np.testing.assert_allclose(layer.batch_norm(x, training=False).numpy(), expected, rtol=1e-5, atol=1e-5)
    pre_sign = np.concatenate([expected + b for b in slice_offsets(k)], axis=-1)
    assert_signs_match(layer(x, training=False).numpy(), np.where(pre_sign >= 0, 1.0, -1.0), pre_sign)
    assert_signs_match(layer.inference_form()(x).numpy(), np.where(pre_sign >= 0, 1.0, -1.0), pre_sign)


def test_defaults_are_boolnets_and_keras_defaults_remain_an_argument():
    assert (BatchNormSign().epsilon, BatchNormSign().momentum) == (1e-5, 0.9)
    layer = BatchNormSign(2, momentum=0.99, epsilon=1e-3)
    assert (layer.batch_norm.epsilon, layer.batch_norm.momentum) == (1e-3, 0.99)
    assert BatchNormSign.from_config(layer.get_config()).batch_norm.epsilon == 1e-3


@pytest.mark.parametrize("arguments", [{"momentum": 1.5}, {"epsilon": -1e-5}, {"momentum": None}])
def test_bad_batch_norm_arguments_are_one_clear_error(arguments):
    ((name, value),) = arguments.items()
    with pytest.raises(UserError, match=rf"BatchNormSign {name} must be .*received {value!r}"):
        BatchNormSign(**arguments)


@pytest.mark.parametrize("builder", ["BoolNet", "BaseNet"])
def test_every_batch_norm_of_the_zoo_models_has_boolnets_values(builder):
    """zoo/models/boolnet.py passes ε and momentum to every BN, nested ones included."""
    from zoo.models import boolnet

    model = getattr(boolnet, builder)(input_shape=(32, 32, 3), num_classes=10)
    batch_norms = [m for m in model.submodules if isinstance(m, tf.keras.layers.BatchNormalization)]
    assert len(batch_norms) > 10
    assert {(bn.epsilon, bn.momentum) for bn in batch_norms} == {(1e-5, 0.9)}
