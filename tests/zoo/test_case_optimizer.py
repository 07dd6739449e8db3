"""CaseOptimizer (Bop for binary kernels, Adam for the rest) on a tiny model against
NumPy oracles, its step counter, and its state through a checkpoint and an .h5 file.

Bop, transcribed from larq 0.14 (`larq/optimizers.py`, `Bop._resource_apply_dense`):
    m <- m + gamma (g - m)
    w <- sign(-sign(w m - threshold) w)      with larq's sign(0) = +1
i.e. w becomes -sign(w) where w m > threshold, sign(w) where w m < threshold, and +1
where w m == threshold (tf.sign gives 0 there). Then the kernel's weight_clip applies.
"""

from lab_bnn.errors import UserError  # noqa: F401  (selects Keras 2 before TensorFlow)

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from zoo.experiments.checkpoints import LogOptimizerIterations, TrainingState
from zoo.training.optimizers import Adam, Bop, CaseOptimizer, ZooCaseOptimizer
from zoo.training.schedules import Constant

GAMMA, THRESHOLD, LR = 0.5, 0.1, 0.01
STEPS = 4
DATA = np.random.RandomState(0)
INPUTS = [DATA.normal(0, 1, (8, 5)).astype("float32") for _ in range(STEPS + 1)]
TARGETS = [DATA.normal(0, 1, (8, 3)).astype("float32") for _ in range(STEPS + 1)]


def larq_sign(x):
    return np.where(x >= 0, 1.0, -1.0)


def bop_update(state, w, g, threshold=THRESHOLD, gamma=GAMMA):
    state["m"] = state.get("m", 0) + gamma * (g - state.get("m", 0))
    agreement = w * state["m"] - threshold
    outcomes = state.setdefault("outcomes", {"flip": 0, "kept, below threshold": 0, "kept, disagrees": 0})
    outcomes["flip"] += int((agreement > 0).sum())
    outcomes["kept, below threshold"] += int(((agreement < 0) & (w * state["m"] > 0)).sum())
    outcomes["kept, disagrees"] += int((w * state["m"] < 0).sum())
    w_new = np.where(agreement > 0, -larq_sign(w), np.where(agreement < 0, larq_sign(w), 1.0))
    return np.clip(w_new, -1, 1)  # weight_clip


def adam_update(state, w, g, t, lr=LR, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    state["m"] = state.get("m", 0) + (g - state.get("m", 0)) * (1 - beta_1)
    state["v"] = state.get("v", 0) + (g * g - state.get("v", 0)) * (1 - beta_2)
    alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return w - alpha * state["m"] / (np.sqrt(state["v"]) + epsilon)


def tiny_model(seed):
    tf.keras.utils.set_random_seed(seed)
    return tf.keras.Sequential(
        [
            lq.layers.QuantDense(
                4, kernel_quantizer="ste_sign", kernel_constraint="weight_clip", input_shape=(5,)
            ),
            tf.keras.layers.Dense(3),
        ]
    )


def case_optimizer():
    return CaseOptimizer(
        binary=Bop(threshold=THRESHOLD, gamma=GAMMA), rest=Adam(learning_rate=LR, schedule=Constant())
    ).build(total_steps=100, steps_per_epoch=10)


def gradients(model, step):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(INPUTS[step]) - TARGETS[step]))
    return tape.gradient(loss, model.trainable_variables)


def values(variables):
    return [np.array(tf.convert_to_tensor(v)) for v in variables]  # latent values of quantized kernels


def test_binary_kernel_follows_bop_and_float_weights_follow_adam():
    model = tiny_model(seed=1)
    optimizer = case_optimizer()
    expected = values(model.trainable_variables)
    states = [{} for _ in expected]
    for step in range(STEPS):
        grads = gradients(model, step)
        for i, (state, g) in enumerate(zip(states, grads)):
            if i == 0:  # quant_dense/kernel: Bop
                expected[0] = bop_update(state, expected[0], g.numpy())
            else:
                expected[i] = adam_update(state, expected[i], g.numpy(), t=step + 1)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        actual = values(model.trainable_variables)
        np.testing.assert_array_equal(actual[0], expected[0], err_msg=f"binary kernel, step {step + 1}")
        assert set(np.unique(actual[0])) <= {-1.0, 1.0}
        for i in range(1, len(actual)):
            np.testing.assert_allclose(actual[i], expected[i], rtol=1e-5, atol=1e-6, err_msg=f"var {i}")
    assert all(states[0]["outcomes"].values()), states[0][
        "outcomes"
    ]  # every branch of the flip rule was exercised
    assert int(optimizer.iterations.numpy()) == STEPS
    assert [int(child.iterations.numpy()) for child in optimizer.optimizers] == [STEPS, STEPS]


def test_the_kernel_goes_to_bop_and_everything_else_to_the_rest_optimizer():
    model = tiny_model(seed=1)
    optimizer = case_optimizer()
    optimizer.apply_gradients(zip(gradients(model, 0), model.trainable_variables))
    bop, adam = optimizer.optimizers
    assert isinstance(bop, lq.optimizers.Bop) and isinstance(adam, tf.keras.optimizers.legacy.Adam)
    kernel, *rest = model.trainable_variables
    assert bop.get_slot(kernel, "m") is not None
    assert all(adam.get_slot(var, "m") is not None for var in rest)
    with pytest.raises(KeyError):
        adam.get_slot(kernel, "m")


def trained_with_fit(steps):
    model = tiny_model(seed=1)
    model.compile(case_optimizer(), "mse")
    for step in range(steps):
        model.train_on_batch(INPUTS[step], TARGETS[step])
    return model


def assert_same_state(a, b):
    for x, y in zip(values(a.trainable_variables), values(b.trainable_variables)):
        np.testing.assert_array_equal(x, y)
    assert len(a.optimizer.weights) == len(b.optimizer.weights) > 2
    for x, y in zip(a.optimizer.weights, b.optimizer.weights):
        np.testing.assert_array_equal(x.numpy(), y.numpy(), err_msg=x.name)


def test_checkpoint_restores_every_slot_and_the_step_count(tmp_path):
    model = trained_with_fit(steps=2)
    assert int(model.optimizer.iterations.numpy()) == 2
    TrainingState(model, tmp_path).save(epochs_completed=1)

    fresh = tiny_model(seed=7)
    fresh.compile(case_optimizer(), "mse")
    assert TrainingState(fresh, tmp_path).restore_latest().endswith("ckpt-1")  # assert_consumed inside
    assert int(fresh.optimizer.iterations.numpy()) == 2
    assert_same_state(model, fresh)
    for m in (model, fresh):  # one more identical step stays identical
        m.train_on_batch(INPUTS[2], TARGETS[2])
    assert_same_state(model, fresh)


def test_an_h5_file_keeps_the_optimizer_and_training_continues_on_every_weight(tmp_path):
    model = trained_with_fit(steps=2)
    model.save(tmp_path / "model.h5", save_format="h5")
    loaded = tf.keras.models.load_model(tmp_path / "model.h5")
    assert type(loaded.optimizer) is ZooCaseOptimizer
    assert_same_state(model, loaded)
    for m in (model, loaded):
        m.train_on_batch(INPUTS[2], TARGETS[2])
    assert_same_state(model, loaded)
    assert int(loaded.optimizer.iterations.numpy()) == 3


def test_fit_logs_the_counted_iterations():
    model = tiny_model(seed=1)
    model.compile(case_optimizer(), "mse")
    history = model.fit(
        np.concatenate(INPUTS[:2]),
        np.concatenate(TARGETS[:2]),
        batch_size=8,
        epochs=2,
        verbose=0,
        callbacks=[LogOptimizerIterations()],
    )
    assert history.history["iterations"] == [2, 4]
