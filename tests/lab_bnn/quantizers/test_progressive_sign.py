"""Progressive weight binarization and the temperature schedule."""

from lab_bnn import TemperatureSchedule
from lab_bnn.errors import UserError
from lab_bnn.layers import MultiSliceBinaryConv2D
from lab_bnn.quantizers import ProgressiveSign

import numpy as np
import pytest
import tensorflow as tf


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
