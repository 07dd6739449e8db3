"""The contract every registered layer keeps (registry-driven)."""

import inspect

import numpy as np
import pytest
import tensorflow as tf

from conftest import perturb_weights
from contract_models import layer_model, layer_of
from converter import convert, read_operators
from sign_margins import tie_free_samples
from lab_bnn.layers import LAYERS
from larq_compute_engine.tflite.python.interpreter import Interpreter

ALIASES = LAYERS.available()


def init_arguments(cls):
    """Arguments a config may carry: every __init__ up the class hierarchy."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            names |= set(inspect.signature(klass.__init__).parameters)
    return names - {"self", "args", "kwargs"}


@pytest.mark.parametrize("alias", ALIASES)
def test_config_round_trip(alias):
    layer = layer_of(layer_model(alias), alias)
    config = layer.get_config()
    assert set(config) <= init_arguments(type(layer)) | {"name", "trainable", "dtype"}
    assert type(layer).from_config(config).get_config() == config


@pytest.mark.parametrize("fmt", ["h5", "savedmodel"])
@pytest.mark.parametrize("alias", ALIASES)
def test_save_and_load_without_custom_objects(alias, fmt, rng, tmp_path):
    model = layer_model(alias)
    perturb_weights(model, rng, 0.1)
    path = str(tmp_path / ("model.h5" if fmt == "h5" else "model"))
    model.save(path, save_format="h5" if fmt == "h5" else "tf")
    loaded = tf.keras.models.load_model(path)
    layer_of(loaded, alias)  # found by its registered class, without custom_objects
    x = rng.randn(4, 8, 8, 32).astype(np.float32)
    np.testing.assert_array_equal(loaded(x, training=False), model(x, training=False))


@pytest.mark.parametrize("alias", ALIASES)
def test_conversion_matches_card_and_keras(alias, rng):
    card = LAYERS.card(alias)
    model = layer_model(alias)
    perturb_weights(model, rng, 0.1)
    flatbuffer = convert(model)
    ops = {op.op_type for op in read_operators(flatbuffer)}
    assert ("LceBconv2d" in ops) == card.binary_conv, ops
    assert ops - {"LceQuantize", "LceBconv2d"} == card.float_ops
    x = tie_free_samples(model, rng.randn(32, 8, 8, 32).astype(np.float32))[:4]
    assert len(x) == 4
    # Grouped binary convs run on LCE's indirect-BGEMM (or reference) kernels only.
    lce = Interpreter(flatbuffer, use_indirect_bgemm=True).predict(x)
    np.testing.assert_allclose(lce, model(x, training=False).numpy(), rtol=1e-5, atol=1e-4)
