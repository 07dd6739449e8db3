"""The contract every registered layer keeps (registry-driven)."""

import inspect
import json

import lab_bnn.layers
from lab_bnn.layers import LAYERS

import numpy as np
import pytest
import tensorflow as tf
from larq_compute_engine.tflite.python.interpreter import Interpreter

from converter import convert, read_operators

from contract_models import (
    FORMATS,
    advance_trained_state,
    assert_same_function,
    classes_defined_in,
    layer_model,
    layer_of,
    perturb_learned_weights,
    reload,
)
from sign_margins import tie_free_samples

ALIASES = LAYERS.available()


def init_arguments(cls):
    """Arguments a config may carry: every __init__ up the class hierarchy."""
    names = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            names |= set(inspect.signature(klass.__init__).parameters)
    return names - {"self", "args", "kwargs"}


def test_every_layer_class_is_registered():
    registered = set(LAYERS.classes().values())
    defined = classes_defined_in(lab_bnn.layers, tf.keras.layers.Layer)
    bases = {c for c in defined if any(issubclass(r, c) and r is not c for r in registered)}
    assert registered <= defined
    assert defined - bases == registered


@pytest.mark.parametrize("alias", ALIASES)
def test_config_round_trip(alias):
    layer = layer_of(layer_model(alias), alias)
    config = layer.get_config()
    assert set(config) <= init_arguments(type(layer)) | {"name", "trainable", "dtype"}
    as_json = json.loads(json.dumps(config))
    assert json.loads(json.dumps(type(layer).from_config(as_json).get_config())) == as_json


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("alias", ALIASES)
def test_trained_state_survives_every_format(alias, fmt, rng, tmp_path):
    model = layer_model(alias)
    advance_trained_state(model)
    perturb_learned_weights(model, rng, 0.1)
    reloaded = reload(model, fmt, tmp_path, lambda: layer_model(alias))
    layer_of(reloaded, alias)  # found by its registered class, without custom_objects
    x = rng.randn(4, 8, 8, 32).astype(np.float32)
    upstream = rng.randn(*model(x).shape).astype(np.float32)
    assert_same_function(model, reloaded, x, upstream)


@pytest.mark.parametrize("alias", ALIASES)
def test_conversion_matches_card_and_keras(alias, rng):
    card = LAYERS.card(alias)
    model = layer_model(alias)
    perturb_learned_weights(model, rng, 0.1)
    flatbuffer = convert(model)
    ops = {op.op_type for op in read_operators(flatbuffer)}
    assert ("LceBconv2d" in ops) == card.binary_conv, ops
    assert ops - {"LceQuantize", "LceBconv2d"} == card.float_ops
    x = tie_free_samples(model, rng.randn(32, 8, 8, 32).astype(np.float32))[:4]
    assert len(x) == 4
    # Grouped binary convs run on LCE's indirect-BGEMM (or reference) kernels only.
    lce = Interpreter(flatbuffer, use_indirect_bgemm=True).predict(x)
    np.testing.assert_allclose(lce, model(x, training=False).numpy(), rtol=1e-5, atol=1e-4)
