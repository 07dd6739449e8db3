"""check_parity and audit against independent facts: a wrong flatbuffer is caught,
a planted multi-bit layer is named with its reason, and op costs add up."""

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from converter import audit, check_parity, convert, multiply_accumulates, read_operators
from converter.interpreter import run_flatbuffer
from zoo.models import SmallBNN

from sign_margins import tie_free_samples

SHAPE = (12, 12, 1)


@pytest.fixture(scope="module")
def lab_model_and_flatbuffer():
    tf.keras.utils.set_random_seed(0)
    model = SmallBNN(input_shape=SHAPE, input_quantizer="lab")
    return model, convert(model)


# Keras and LCE pre-sign values differ by at most 1.5e-6 of the layer's largest one
# (measured on LAB SmallBNNs, AVX-512). A value 1e-5 of that away from its threshold
# has the same sign on any CPU, so on such samples every sign must agree; near-ties
# may flip on one CPU and not another, and are left out.
TIE_MARGIN = 1e-5


def test_parity_of_a_faithful_conversion(lab_model_and_flatbuffer, rng):
    model, flatbuffer = lab_model_and_flatbuffer
    samples = tie_free_samples(model, rng.rand(64, *SHAPE).astype(np.float32), TIE_MARGIN, relative=True)[:8]
    assert len(samples) == 8, "too few samples clear of sign ties to compare"
    report = check_parity(model, flatbuffer, samples)
    logit_scale = np.abs(model.predict(samples, verbose=0)).max()  # untrained: large logits
    assert set(report.sign_flip_rates) == {
        l.name for l in model.layers if isinstance(l, lq.layers.QuantConv2D)
    }
    assert set(report.sign_flip_rates.values()) == {0.0}
    assert report.flip_free_samples == 8
    assert report.max_abs_diff < 1e-5 * logit_scale  # float32 rounding only


def test_parity_catches_a_flatbuffer_of_another_model(lab_model_and_flatbuffer, rng):
    model, _ = lab_model_and_flatbuffer
    other = SmallBNN(input_shape=SHAPE, input_quantizer="lab")  # other random weights
    report = check_parity(model, convert(other), rng.rand(8, *SHAPE), sign_flips=False)
    assert report.max_abs_diff > 1e-2


def test_parity_runs_keras_one_sample_at_a_time_as_lce_does(rng):
    """Sauvola's default R is the largest deviation of the whole batch, so a batched
    Keras run differs from LCE's one-sample runs; parity compares like with like."""
    tf.keras.utils.set_random_seed(1)
    model = SmallBNN(input_shape=SHAPE, input_quantizer="sauvola")
    flatbuffer = convert(model)
    samples = (rng.rand(6, *SHAPE) * np.linspace(0.2, 3.0, 6).reshape(-1, 1, 1, 1)).astype(np.float32)
    # predict on one sample is the computation parity must do (eager calls round differently)
    one_at_a_time = np.concatenate([model.predict(s[None], verbose=0) for s in samples])
    batched = model.predict(samples, verbose=0)
    logit_scale = np.abs(one_at_a_time).max()
    assert np.abs(batched - one_at_a_time).max() > 1e-2 * logit_scale  # the batch matters
    lce_out = run_flatbuffer(flatbuffer, samples)[0]
    report = check_parity(model, flatbuffer, samples, sign_flips=False)
    assert report.max_abs_diff == pytest.approx(np.abs(one_at_a_time - lce_out).max(), abs=1e-5 * logit_scale)
    assert report.top1_agreement == np.mean(one_at_a_time.argmax(-1) == lce_out.argmax(-1))


def test_sign_probe_compares_one_sample_at_a_time_too(rng):
    """The sign-flip probe also runs Keras per sample: Sauvola's batch-wide R would
    otherwise move the Keras thresholds and report flips that LCE never makes."""
    tf.keras.utils.set_random_seed(1)
    model = SmallBNN(input_shape=SHAPE, input_quantizer="sauvola")
    flatbuffer = convert(model)
    samples = (rng.rand(6, *SHAPE) * np.linspace(0.2, 3.0, 6).reshape(-1, 1, 1, 1)).astype(np.float32)
    report = check_parity(model, flatbuffer, samples)
    # a rounding tie may flip a sign or two; the batch's R flipped tens of percent
    assert report.max_sign_flip_rate <= 0.01, report.sign_flip_rates


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
        binary / sum(multiply_accumulates(op) for op in ops)
    )
    assert report.stayed_float.empty and report.summary["layers_meant_binary"] == 4
    # every weight is somewhere: parameter bytes never exceed the file
    assert 0 < report.operators.parameter_bytes.sum() < report.summary["size_bytes"]


def test_audit_names_a_planted_multi_bit_layer_with_its_reason():
    inputs = tf.keras.Input(SHAPE)
    x = lq.layers.QuantConv2D(
        32,
        3,
        padding="same",
        pad_values=1.0,
        input_quantizer="ste_sign",
        kernel_quantizer="ste_sign",
        name="binary_ok",
    )(inputs)
    x = lq.layers.QuantConv2D(
        32,
        3,
        padding="same",
        pad_values=1.0,
        input_quantizer=lq.quantizers.DoReFa(k_bit=2, mode="activations"),
        kernel_quantizer="ste_sign",
        name="two_bit",
    )(x)
    model = tf.keras.Model(inputs, x)
    report = audit(convert(model), model)
    assert report.stayed_float.layer.tolist() == ["two_bit"]
    assert report.stayed_float.reason[0] == (
        "input_quantizer DoReFa has 2 bits; LCE runs 1-bit convolutions only"
    )


def test_audit_bad_input_is_one_clear_error():
    with pytest.raises(
        ValueError, match=r"expected TFLite flatbuffer bytes.*received bytes starting b'not a fl'"
    ):
        audit(b"not a flatbuffer")


def test_a_float_baseline_is_audited_as_float():
    float_model = tf.keras.Sequential([tf.keras.Input(SHAPE), tf.keras.layers.Conv2D(4, 3)])
    report = audit(convert(float_model), float_model)
    assert report.operators.op_type.tolist() == ["CONV_2D"]
    assert (report.summary["binary_convs"], report.summary["layers_meant_binary"]) == (0, 0)
    assert report.stayed_float.empty and report.summary["binary_mac_fraction"] == 0.0
