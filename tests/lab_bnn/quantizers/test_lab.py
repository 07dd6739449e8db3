"""LAB: forward and soft-argmax gradient against the NumPy transcriptions of the
formula (same-channel pairing) and of the official code (its pairing); training."""

from lab_bnn.errors import UserError
from lab_bnn.quantizers import LAB

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

import numpy_official as official
import numpy_reference as ref
from conftest import assert_signs_match, forward_and_gradients

TOL = dict(rtol=1e-5, atol=1e-5)


def built_lab(rng, channels=3, beta=1.0, trainable_beta=True, pairing="same_channel"):
    layer = LAB(beta=beta, trainable_beta=trainable_beta, pairing=pairing)
    layer.build((None, 6, 5, channels))
    layer.depthwise_kernel.assign(rng.randn(3, 3, channels, 2) * 0.5)
    layer.bias.assign(rng.randn(2 * channels) * 0.1)
    return layer


@pytest.mark.parametrize("beta", [1.0, 0.7, -1.3])
def test_forward_and_gradient_match_numpy(rng, beta):
    layer = built_lab(rng, beta=beta)
    x = rng.randn(2, 6, 5, 3)
    upstream = rng.randn(2, 6, 5, 3)
    out, (dx, dkernel, dbias, dbeta) = forward_and_gradients(layer, x, upstream)
    kernel, bias = layer.depthwise_kernel.numpy(), layer.bias.numpy()
    ref_out, d, ref_dx, ref_dk, ref_db, ref_dbeta = ref.lab(x, kernel, bias, beta, upstream)
    assert_signs_match(out, ref_out, d)
    np.testing.assert_allclose(dx, ref_dx, **TOL)
    np.testing.assert_allclose(dkernel, ref_dk, **TOL)
    np.testing.assert_allclose(dbias, ref_db, **TOL)
    np.testing.assert_allclose(dbeta, ref_dbeta, **TOL)


def assert_close_relative(actual, expected, rtol=1e-5):
    """Equal within rtol of the largest |expected| (float32 against float64)."""
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


# The fork's LAB has a fixed 3×3 kernel; tiny maps, batch 1 and > 1, one and many channels.
OFFICIAL_SHAPES = [(2, 6, 5, 3), (1, 1, 1, 4), (3, 2, 2, 2), (1, 2, 2, 1), (2, 7, 7, 6)]


@pytest.mark.parametrize("shape", OFFICIAL_SHAPES)
@pytest.mark.parametrize("beta,trainable_beta", [(1.0, True), (-0.7, True), (2.0, False)])
def test_official_pairing_matches_the_lab_code(rng, shape, beta, trainable_beta):
    """Our weights are the fork's as they are (same (3, 3, C, 2) kernel and 2C bias
    layout): the identity permutation; only the pairing (j with C + j) is the fork's."""
    layer = built_lab(rng, shape[-1], beta, trainable_beta, pairing="official")
    x, upstream = rng.randn(*shape), rng.randn(*shape)
    out, grads = forward_and_gradients(layer, x, upstream)
    kernel, bias = layer.depthwise_kernel.numpy(), layer.bias.numpy()
    ref_out, d, *ref_grads = official.lab_official(x, kernel, bias, beta, upstream)
    assert_signs_match(out, ref_out, d)
    assert_close_relative(layer.difference(x.astype(np.float32)).numpy(), d)
    assert len(grads) == (4 if trainable_beta else 3)  # x, kernel, bias (, β)
    for got, expected in zip(grads, ref_grads):
        assert_close_relative(got, expected)


@pytest.mark.parametrize("shape", [(2, 6, 5, 1), (1, 1, 1, 1), (3, 2, 2, 1)])
def test_same_channel_pairing_is_the_lab_code_at_one_channel(rng, shape):
    """At C = 1 both pairings pair outputs 0 and 1, so the default is the fork's there."""
    layer = built_lab(rng, channels=1, beta=-1.2)
    x, upstream = rng.randn(*shape), rng.randn(*shape)
    out, grads = forward_and_gradients(layer, x, upstream)
    ref_out, d, *ref_grads = official.lab_official(
        x, layer.depthwise_kernel.numpy(), layer.bias.numpy(), -1.2, upstream
    )
    assert_signs_match(out, ref_out, d)
    for got, expected in zip(grads, ref_grads):
        assert_close_relative(got, expected)


def test_the_pairings_differ_when_there_are_several_channels(rng):
    same = built_lab(rng, channels=4)
    fork = built_lab(rng, channels=4, pairing="official")
    fork.set_weights(same.get_weights())
    x = rng.randn(2, 6, 5, 4).astype(np.float32)
    assert np.mean(same(x).numpy() != fork(x).numpy()) > 0.2


def test_official_pairing_round_trips_and_exports_as_itself(rng):
    layer = built_lab(rng, channels=2, pairing="official")
    assert LAB.from_config(layer.get_config()).pairing == "official"
    assert layer.inference_form() is layer


@pytest.mark.parametrize("pairing", ["paper", None, "Official"])
def test_unknown_pairing_is_one_clear_error(pairing):
    with pytest.raises(
        UserError, match=rf"LAB pairing must be one of .*same_channel.*official.*received {pairing!r}"
    ):
        LAB(pairing=pairing)


def test_fixed_beta_is_a_constant_not_a_weight(rng):
    layer = built_lab(rng, beta=2.0, trainable_beta=False)
    assert len(layer.trainable_weights) == 2
    x, upstream = rng.randn(2, 6, 5, 3), rng.randn(2, 6, 5, 3)
    out, (dx, _, _) = forward_and_gradients(layer, x, upstream)
    ref_out, d, ref_dx, *_ = ref.lab(x, layer.depthwise_kernel.numpy(), layer.bias.numpy(), 2.0, upstream)
    assert_signs_match(out, ref_out, d)
    np.testing.assert_allclose(dx, ref_dx, **TOL)


def test_tie_gives_minus_one():
    layer = LAB(depthwise_initializer="zeros")  # every pair equal: a tie everywhere
    out = layer(tf.ones((1, 4, 4, 2)))
    np.testing.assert_array_equal(out.numpy(), -np.ones((1, 4, 4, 2)))


@pytest.mark.parametrize("beta", [1.5, -0.5, 0.0])
def test_inference_form_equals_lab(rng, beta):
    layer = built_lab(rng, channels=4, beta=beta)
    x = rng.randn(3, 6, 5, 4).astype(np.float32)
    fused = layer.inference_form()
    assert fused.depthwise_kernel.shape == (3, 3, 4, 1)
    d = layer.difference(x).numpy()
    if beta == 0.0:
        np.testing.assert_array_equal(fused(x).numpy(), -np.ones_like(x))
    else:
        assert_signs_match(fused(x).numpy(), layer(x).numpy(), d)


def test_quant_conv_with_lab_trains_kernel_bias_and_beta(rng):
    model = tf.keras.Sequential(
        [
            tf.keras.Input((8, 8, 4)),
            lq.layers.QuantConv2D(
                8,
                3,
                padding="same",
                input_quantizer="lab",
                kernel_quantizer="ste_sign",
                kernel_constraint="weight_clip",
            ),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(2),
        ]
    )
    lab = model.layers[0].input_quantizer
    assert isinstance(lab, LAB)
    before = {w.name: w.numpy().copy() for w in lab.weights}
    assert len(before) == 3
    model.compile(
        tf.keras.optimizers.Adam(0.05), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    x, y = rng.randn(16, 8, 8, 4), rng.randint(0, 2, 16)
    for _ in range(2):
        model.train_on_batch(x, y)
    for w in lab.weights:
        assert not np.allclose(w.numpy(), before[w.name]), f"{w.name} did not change"


@pytest.mark.parametrize("shape", [(None, 8), (None, 4, 4), (None, 2, 4, 4, 3)])
def test_non_4d_input_is_one_clear_error(shape):
    with pytest.raises(UserError, match=r"LAB binarizes 4-D NHWC.*received input shape"):
        LAB().build(shape)


def test_non_positive_kernel_size_is_rejected():
    with pytest.raises(UserError, match=r"kernel_size must be a positive integer; received 0"):
        LAB(kernel_size=0)
