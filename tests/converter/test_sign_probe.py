"""The sign-flip probe finds binarized inputs at any depth and reports each layer's own
flips. A planted converter fault negates one layer's input only while the probe is
converted; the oracle is exact: every sign of that layer flips (rate 1), no other does.

The models binarize the raw input and sums of an odd number of ±1 (27 per output), so
no pre-sign value is ever 0 or near it: Keras and LCE agree on every sign exactly.
"""

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

import converter.sign_probe
from converter import check_parity, convert

SHAPE = (6, 6, 3)
CONVERTING = {"on": False}


class NegatedWhileConverting(tf.keras.layers.Layer):
    """Identity in Keras; −x in the converted probe: a converter bug on one tensor."""

    def call(self, inputs):
        return -inputs if CONVERTING["on"] else inputs


class Block(tf.keras.layers.Layer):
    """A layer holding a binary conv as an attribute (not a nested model)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = binary_conv("conv")

    def call(self, inputs):
        return self.conv(inputs)


def binary_conv(name, padding="same"):
    return lq.layers.QuantConv2D(
        3,
        3,
        padding=padding,
        pad_values=1.0,
        use_bias=False,
        input_quantizer="ste_sign",
        kernel_quantizer="ste_sign",
        name=name,
    )


@pytest.fixture
def planted_fault(monkeypatch):
    def convert_with_the_fault(model, **options):
        CONVERTING["on"] = True
        try:
            return convert(model, **options)
        finally:
            CONVERTING["on"] = False

    monkeypatch.setattr(converter.sign_probe, "convert", convert_with_the_fault)


def flip_rates(model, rng):
    samples = rng.standard_normal((4, *SHAPE)).astype(np.float32)
    return check_parity(model, convert(model), samples)


def test_two_layers_with_same_shaped_inputs_each_get_their_own_flips(planted_fault, rng):
    inputs = tf.keras.Input(SHAPE)
    x = binary_conv("first")(inputs)  # (6, 6, 3) in, (6, 6, 3) out
    x = binary_conv("second")(NegatedWhileConverting()(x))
    report = flip_rates(tf.keras.Model(inputs, tf.keras.layers.Flatten()(x)), rng)
    assert report.sign_flip_rates == {"first": 0.0, "second": 1.0}
    assert report.flip_free_samples == 0


def test_layers_in_a_nested_model_and_inside_a_layer_are_probed(planted_fault, rng):
    inner_input = tf.keras.Input(SHAPE)
    x = NegatedWhileConverting()(inner_input)
    # undone after the conv: without padding, conv(−signs) = −conv(signs)
    x = NegatedWhileConverting()(binary_conv("inner_conv", padding="valid")(x))
    inner = tf.keras.Model(inner_input, x, name="block")
    inputs = tf.keras.Input(SHAPE)
    x = Block(name="wrapper")(binary_conv("outer")(inputs))
    x = binary_conv("last")(inner(x))
    report = flip_rates(tf.keras.Model(inputs, tf.keras.layers.Flatten()(x)), rng)
    assert report.sign_flip_rates == {"outer": 0.0, "wrapper/conv": 0.0, "block/inner_conv": 1.0, "last": 0.0}


def test_a_faithful_conversion_flips_nothing_at_any_depth(rng):
    inner_input = tf.keras.Input(SHAPE)
    inner = tf.keras.Model(inner_input, binary_conv("inner_conv")(inner_input), name="block")
    inputs = tf.keras.Input(SHAPE)
    x = binary_conv("last")(inner(binary_conv("outer")(inputs)))
    model = tf.keras.Model(inputs, tf.keras.layers.Flatten()(x))
    report = flip_rates(model, rng)
    assert report.sign_flip_rates == {"outer": 0.0, "block/inner_conv": 0.0, "last": 0.0}
    assert report.flip_free_samples == 4 and report.max_abs_diff == 0.0  # sums of ±1
