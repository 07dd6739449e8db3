"""XNOR and OR logic shortcuts: truth tables on ±1 and their training gradients."""

import itertools

from lab_bnn.layers import LogicOr, LogicXnor

import numpy as np
import tensorflow as tf

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
