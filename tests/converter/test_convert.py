"""`convert` freezes variables without building TensorFlow's new concrete function
(converter.convert._frozen_graph). The oracle is LCE's own graph-def route, with
TensorFlow's `convert_variables_to_constants_v2`: the flatbuffers must be
byte-identical, for CompactBNN with every binarizer, for BoolNet (grouped binary convs,
LAB in some stages only) and for a sign probe (one output concatenating many taps).
"""

import importlib
from unittest import mock

import pytest
import tensorflow as tf
from tensorflow.python.framework import convert_to_constants

from converter import convert
from converter.fuse import fuse_for_inference
from converter.sign_probe import _SignProbe, _SignTap, _Taps, binarized_inputs
from zoo.models import BINARIZER_CHOICES
from zoo.models.registry import MODELS

# the module: the package's `converter.convert` attribute is the function
convert_module = importlib.import_module("converter.convert")


def both_routes(model: tf.keras.Model, **options):
    # Fusing clones layers whose sublayers take names from Keras' global counters, and
    # the flatbuffer keeps tensor names: both conversions start from fresh counters.
    tf.keras.backend.clear_session()
    fast = convert(model, **options)
    tf.keras.backend.clear_session()
    with mock.patch.object(
        convert_module, "_frozen_graph", convert_to_constants.convert_variables_to_constants_v2
    ):
        tensorflow_route = convert(model, **options)
    return fast, tensorflow_route


def compact_bnn(binarizer):
    return MODELS["CompactBNN"].build(
        input_shape=MODELS["CompactBNN"].small_input, num_classes=10, binarizer=binarizer
    )


@pytest.mark.parametrize("binarizer", BINARIZER_CHOICES)
def test_compact_bnn_flatbuffer_is_the_one_tensorflows_freeze_gives(binarizer):
    fast, tensorflow_route = both_routes(compact_bnn(binarizer))
    assert fast == tensorflow_route


def test_boolnet_with_lab_in_some_stages_gives_the_same_flatbuffer():
    model = MODELS["BoolNet"].build(
        input_shape=MODELS["BoolNet"].small_input, num_classes=10, lab_blocks=(True, False, True, False)
    )
    fast, tensorflow_route = both_routes(model)
    assert fast == tensorflow_route


def test_a_sign_probe_gives_the_same_flatbuffer():
    fused = fuse_for_inference(compact_bnn("lab"))
    taps = _Taps()
    layers = binarized_inputs(fused)
    assert len(layers) > 1
    for key, layer in layers.items():
        layer.input_quantizer = _SignTap(layer.input_quantizer, key, taps)
    inputs = tf.keras.Input(fused.input_shape[1:])
    probe = tf.keras.Model(inputs, _SignProbe(fused, taps)(inputs))
    fast, tensorflow_route = both_routes(probe, fuse=False)
    assert fast == tensorflow_route
