"""Progressive weight binarization and the temperature schedule."""

from lab_bnn import TemperatureSchedule
from lab_bnn.errors import UserError
from lab_bnn.layers import MultiSliceBinaryConv2D
from lab_bnn.quantizers import ProgressiveSign

import numpy as np
import pytest
import tensorflow as tf

import numpy_official_boolnet as official


def reference(w, temperature, training, upstream):
    mean = np.abs(w).reshape(-1, w.shape[-1]).mean(0)
    value = np.clip(w / temperature, -1, 1) if training else np.where(w >= 0, 1.0, -1.0)
    n = w.size // w.shape[-1]
    through_mean = np.sign(w) / n * (upstream * value).reshape(-1, w.shape[-1]).sum(0)
    return value * mean, upstream * (np.abs(w) <= 1) * mean + through_mean


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("temperature", [1.0, 0.3])
def test_hardtanh_in_training_sign_at_inference(rng, training, temperature):
    quantizer = ProgressiveSign(temperature=temperature)
    w = tf.constant(rng.randn(3, 3, 4, 5) * 0.7, tf.float32)
    upstream = rng.randn(3, 3, 4, 5)
    with tf.GradientTape() as tape:
        tape.watch(w)
        out = quantizer(w, training=training)
        loss = tf.reduce_sum(out * upstream)
    expected, grad = reference(w.numpy(), temperature, training, upstream)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, w).numpy(), grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("steps,every", [(7, 3), (10, 10), (5, 1)])
def test_temperature_after_n_steps(rng, steps, every):
    inputs = tf.keras.Input((6, 6, 32))
    outputs = MultiSliceBinaryConv2D(32, 3, padding_mode="one")(inputs)
    model = tf.keras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    model.fit(
        rng.randn(steps, 6, 6, 32),
        rng.randn(steps, 6, 6, 32),
        batch_size=1,
        verbose=0,
        callbacks=[TemperatureSchedule(every_n_steps=every)],
    )
    temperature = model.layers[1].kernel_quantizer.current_temperature.numpy()
    np.testing.assert_allclose(temperature, 0.965 ** (steps // every), rtol=1e-6)


def temperature_model():
    inputs = tf.keras.Input((6, 6, 32))
    model = tf.keras.Model(inputs, MultiSliceBinaryConv2D(32, 3, padding_mode="one")(inputs))
    model.compile(tf.keras.optimizers.SGD(), "mse")
    return model


def test_a_resumed_run_continues_the_schedule(rng, tmp_path):
    x, y = rng.randn(8, 6, 6, 32), rng.randn(8, 6, 6, 32)
    model = temperature_model()
    model.fit(x[:5], y[:5], batch_size=1, verbose=0, callbacks=[TemperatureSchedule(every_n_steps=2)])
    prefix = tf.train.Checkpoint(model=model, optimizer=model.optimizer).write(str(tmp_path / "ckpt"))
    resumed = temperature_model()  # a new process: new model, optimizer and callback
    tf.train.Checkpoint(model=resumed, optimizer=resumed.optimizer).read(
        prefix
    ).assert_existing_objects_matched()
    resumed.fit(x[5:], y[5:], batch_size=1, verbose=0, callbacks=[TemperatureSchedule(every_n_steps=2)])
    temperature = resumed.layers[1].kernel_quantizer.current_temperature.numpy()
    np.testing.assert_allclose(temperature, 0.965 ** (8 // 2), rtol=1e-6)


@pytest.mark.parametrize("every,factor", [(0, 0.965), (3, 0.0), (3, 1.5), (3, "0.9")])
def test_bad_schedule_is_one_clear_error(every, factor):
    with pytest.raises(UserError, match=r"TemperatureSchedule (every_n_steps|factor) must be"):
        TemperatureSchedule(every_n_steps=every, factor=factor)


# --- against BoolNet's official binarize(weight, T, progressive=training, scale=True) ---


def official_check(quantizer, weight, temperature, training, rng):
    """Our forward and kernel gradient against the official code's, for a (O, I, kh, kw)
    weight given to us in Keras' (kh, kw, I, O)."""
    expected, backward = official.binarize_weight(weight, temperature, training)
    upstream = rng.randn(*weight.shape)
    kernel = tf.constant(official.kernel_to_keras(weight), tf.float32)
    quantizer.build(kernel.shape)
    quantizer.current_temperature.assign(temperature)
    with tf.GradientTape() as tape:
        tape.watch(kernel)
        out = quantizer(kernel, training=training)
        loss = tf.reduce_sum(out * official.kernel_to_keras(upstream))
    grad = backward(upstream)
    scale = lambda a: 1e-5 * np.abs(a).max()  # noqa: E731
    np.testing.assert_allclose(
        out.numpy(), official.kernel_to_keras(expected), rtol=1e-5, atol=scale(expected)
    )
    np.testing.assert_allclose(
        tape.gradient(loss, kernel).numpy(), official.kernel_to_keras(grad), rtol=1e-5, atol=scale(grad)
    )
    return out.numpy()


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("temperature", [1.0, 0.965**7, 0.2])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (5, 4, 3, 3), (8, 32, 3, 3), (3, 2, 1, 1)])
def test_matches_the_official_binarize(rng, training, temperature, shape):
    # clear of sign(0) and of the clamp's ±1, where the gradient's mask switches
    weight = official.away_from(lambda: rng.randn(*shape) * 0.8, [-1.0, 0.0, 1.0], 1e-3)
    official_check(ProgressiveSign(), weight, temperature, training, rng)


@pytest.mark.parametrize("training", [True, False])
def test_exact_zero_weights_binarize_to_zero_with_sign_of_zero_zero_as_official(rng, training):
    weight = official.away_from(lambda: rng.randn(4, 3, 3, 3) * 0.8, [-1.0, 0.0, 1.0], 1e-3)
    weight[0] = 0.0  # a dead output channel: mean|W| = 0
    weight[1, :, 1, 1] = 0.0
    out = official_check(ProgressiveSign(sign_of_zero="zero"), weight, 0.5, training, rng)
    assert (out[1, 1, :, 1] == 0).all()


def test_by_default_a_zero_weight_binarizes_to_plus_one_at_inference(rng):
    weight = official.away_from(lambda: rng.randn(2, 3, 3, 3) * 0.8, [0.0], 1e-3)
    weight[1, :, 1, 1] = 0.0
    kernel = official.kernel_to_keras(weight).astype(np.float32)
    former = ProgressiveSign()
    assert former.get_config()["sign_of_zero"] == "plus_one"
    assert (
        ProgressiveSign.from_config(ProgressiveSign(sign_of_zero="zero").get_config()).sign_of_zero == "zero"
    )
    mean = np.abs(kernel).reshape(-1, kernel.shape[-1]).mean(0)
    expected = np.where(kernel >= 0, 1.0, -1.0) * mean
    np.testing.assert_allclose(former(kernel, training=False).numpy(), expected, rtol=1e-6)
    assert (former(kernel, training=False).numpy()[1, 1, :, 1] > 0).all()


@pytest.mark.parametrize(
    "arguments,message",
    [
        ({"temperature": 0.0}, r"temperature must be a number > 0; received 0\.0"),
        ({"temperature": -1}, r"temperature must be a number > 0; received -1"),
        ({"temperature": float("inf")}, r"temperature must be a number > 0; received inf"),
        ({"temperature": "1"}, r"temperature must be a number > 0; received '1'"),
        ({"temperature": True}, r"temperature must be a number > 0; received True"),
        ({"sign_of_zero": "one"}, r"sign_of_zero must be one of 'plus_one', 'zero'; received 'one'"),
    ],
)
def test_bad_arguments_are_one_clear_error(arguments, message):
    with pytest.raises(UserError, match=message):
        ProgressiveSign(**arguments)
