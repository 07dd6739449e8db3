"""XNOR and OR logic shortcuts: truth tables on ±1 and their training gradients."""

import itertools

from lab_bnn.layers import LogicOr, LogicXnor

import numpy as np
import pytest
import tensorflow as tf

import numpy_official_boolnet as official

PAIRS = np.array(list(itertools.product([-1.0, 1.0], repeat=2)), np.float32)


def test_truth_tables():
    x, y = PAIRS[:, :1], PAIRS[:, 1:]
    xnor = LogicXnor()([x, y]).numpy().ravel()
    orr = LogicOr()([x, y]).numpy().ravel()
    # as booleans (+1 = true): XNOR true when equal; OR true when either is true
    assert xnor.tolist() == [1.0, -1.0, -1.0, 1.0]
    assert orr.tolist() == [-1.0, 1.0, 1.0, 1.0]


def paper_or(x, y):
    return np.clip((x + 1) / 2 + (y + 1) / 2, 0, 1) * 2 - 1


def test_training_gradients_follow_the_paper_formulas(rng):
    x = tf.constant(rng.uniform(-1.5, 1.5, (64, 1)), tf.float32)
    y = tf.constant(rng.uniform(-1.5, 1.5, (64, 1)), tf.float32)
    np.testing.assert_allclose(LogicOr()([x, y]).numpy(), paper_or(x.numpy(), y.numpy()), atol=1e-6)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        xnor, orr = LogicXnor()([x, y]), LogicOr()([x, y])
    np.testing.assert_allclose(tape.gradient(xnor, x).numpy(), y.numpy())
    s = (x.numpy() + 1) / 2 + (y.numpy() + 1) / 2  # d/dx of the paper's OR: 1 inside [0, 1]
    np.testing.assert_allclose(tape.gradient(orr, x).numpy(), ((s >= 0) & (s <= 1)).astype(np.float32))


# --- against BoolNet's official XNOR and OR (boolnet.py), forward and gradient ---


def official_check(layer, official_logic, x, y, rng):
    expected, backward = official_logic(x, y)
    upstream = rng.randn(*expected.shape)
    tx, ty = tf.constant(x, tf.float32), tf.constant(y, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch([tx, ty])
        out = layer([tx, ty])
        loss = tf.reduce_sum(out * upstream)
    grads = tape.gradient(loss, [tx, ty])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    for grad, want in zip(grads, backward(upstream)):
        np.testing.assert_allclose(grad.numpy(), want, rtol=1e-5, atol=1e-6)


LOGIC = [(LogicXnor, official.xnor), (LogicOr, official.logic_or)]


@pytest.mark.parametrize("layer,official_logic", LOGIC)
def test_every_pair_of_signs_and_exact_zeros_as_official(rng, layer, official_logic):
    # -1, 0 (the official sign of a tie) and +1: exact, so the OR's clamp bounds are hit
    # exactly and both frameworks pass the gradient there (bounds included).
    values = np.array(list(itertools.product([-1.0, 0.0, 1.0], repeat=2)))
    official_check(layer(), official_logic, values[:, :1], values[:, 1:], rng)


@pytest.mark.parametrize("layer,official_logic", LOGIC)
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (3, 4, 5, 6), (1, 2, 2, 128)])
def test_random_floats_as_official(rng, layer, official_logic, shape):
    y = rng.uniform(-1.5, 1.5, shape)
    # the OR clamps (x+1)/2 + (y+1)/2 to [0, 1]: keep x + y clear of −2 and 0
    x = official.away_from(lambda: rng.uniform(-1.5, 1.5, shape), [-2.0 - y, -y], 1e-3)
    official_check(layer(), official_logic, x, y, rng)
