"""check_parity and audit against independent facts: a wrong flatbuffer is caught,
a planted multi-bit layer is named with its reason, and op costs add up."""

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from converter import audit, check_parity, convert, multiply_accumulates, read_operators
from zoo.models import SmallBNN

SHAPE = (12, 12, 1)


@pytest.fixture(scope="module")
def lab_model_and_flatbuffer():
    tf.keras.utils.set_random_seed(0)
    model = SmallBNN(input_shape=SHAPE, input_quantizer="lab")
    return model, convert(model)


def test_parity_of_a_faithful_conversion(lab_model_and_flatbuffer, rng):
    model, flatbuffer = lab_model_and_flatbuffer
    samples = rng.rand(8, *SHAPE)
    report = check_parity(model, flatbuffer, samples)
    logit_scale = np.abs(model.predict(samples, verbose=0)).max()  # untrained: large logits
    assert set(report.sign_flip_rates) == {l.name for l in model.layers
                                           if isinstance(l, lq.layers.QuantConv2D)}
    assert all(0 <= rate < 1e-3 for rate in report.sign_flip_rates.values())
    assert report.flip_free_samples >= 4
    assert report.max_abs_diff_flip_free < 1e-5 * logit_scale  # float32 rounding
    assert report.top1_agreement >= 0.75


def test_parity_catches_a_flatbuffer_of_another_model(lab_model_and_flatbuffer, rng):
    model, _ = lab_model_and_flatbuffer
    other = SmallBNN(input_shape=SHAPE, input_quantizer="lab")  # other random weights
    report = check_parity(model, convert(other), rng.rand(8, *SHAPE), sign_flips=False)
    assert report.max_abs_diff > 1e-2


def test_parity_rejects_samples_of_the_wrong_shape(lab_model_and_flatbuffer):
    model, flatbuffer = lab_model_and_flatbuffer
    with pytest.raises(ValueError, match=r"samples must have shape \(N, 12, 12, 1\); received \(2, 12, 12\)"):
        check_parity(model, flatbuffer, np.zeros((2, 12, 12)))


def test_audit_table_adds_up(lab_model_and_flatbuffer):
    model, flatbuffer = lab_model_and_flatbuffer
    report = audit(flatbuffer, model)
    ops = read_operators(flatbuffer)
    assert report.operators.op_type.tolist() == [op.op_type for op in ops]
    assert report.operators.macs.tolist() == [multiply_accumulates(op) for op in ops]
    binary = sum(multiply_accumulates(op) for op in ops if op.op_type == "LceBconv2d")
    assert report.summary["binary_mac_fraction"] == pytest.approx(
        binary / sum(multiply_accumulates(op) for op in ops))
    assert report.stayed_float.empty and report.summary["layers_meant_binary"] == 4
    # every weight is somewhere: parameter bytes never exceed the file
    assert 0 < report.operators.parameter_bytes.sum() < report.summary["size_bytes"]


def test_audit_names_a_planted_multi_bit_layer_with_its_reason():
    inputs = tf.keras.Input(SHAPE)
    x = lq.layers.QuantConv2D(32, 3, padding="same", pad_values=1.0, input_quantizer="ste_sign",
                              kernel_quantizer="ste_sign", name="binary_ok")(inputs)
    x = lq.layers.QuantConv2D(32, 3, padding="same", pad_values=1.0,
                              input_quantizer=lq.quantizers.DoReFa(k_bit=2, mode="activations"),
                              kernel_quantizer="ste_sign", name="two_bit")(x)
    model = tf.keras.Model(inputs, x)
    report = audit(convert(model), model)
    assert report.stayed_float.layer.tolist() == ["two_bit"]
    assert report.stayed_float.reason[0] == (
        "input_quantizer DoReFa has 2 bits; LCE runs 1-bit convolutions only")


def test_audit_bad_input_is_one_clear_error():
    with pytest.raises(ValueError, match=r"expected TFLite flatbuffer bytes.*received bytes starting b'not a fl'"):
        audit(b"not a flatbuffer")
    float_model = tf.keras.Sequential([tf.keras.Input(SHAPE), tf.keras.layers.Conv2D(4, 3)])
    with pytest.raises(ValueError, match=r"has no binary layer"):
        audit(convert(float_model), float_model)
