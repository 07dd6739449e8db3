"""Shared test set-up: quiet TensorFlow, legacy Keras first, seeded randomness."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import lab_bnn  # noqa: E402,F401  (selects legacy Keras before TensorFlow loads)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402


@pytest.fixture
def rng():
    tf.keras.utils.set_random_seed(1234)
    return np.random.RandomState(1234)


def forward_and_gradients(layer, x, upstream):
    """Output of `layer` on x and the gradients of sum(upstream * output) with
    respect to x and to each of the layer's trainable weights."""
    x = tf.constant(x, tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        out = layer(x)
        loss = tf.reduce_sum(out * tf.constant(upstream, tf.float32))
    grads = tape.gradient(loss, [x] + layer.trainable_weights)
    return out.numpy(), [g.numpy() for g in grads]


def assert_signs_match(actual, expected, pre_sign, margin=1e-4):
    """Equal ±1 outputs wherever the pre-sign value is not within `margin` of a tie."""
    decided = np.abs(pre_sign) > margin
    assert decided.mean() > 0.99, "too many near-ties to compare"
    np.testing.assert_array_equal(actual[decided], expected[decided])
    assert set(np.unique(actual)) <= {-1.0, 1.0}


def perturb_weights(model, rng, scale):
    """Move every weight (β, BN statistics, biases included) off its initial value."""
    for w in model.weights:
        w.assign(w + np.asarray(rng.randn(*w.shape) * scale, np.float32))


def calibrate_batchnorm(model, x, passes=80):
    """Run training-mode forward passes so BN moving statistics match the data,
    as in a trained model, keeping activations and logits at their natural scale."""
    for _ in range(passes):
        model(x, training=True)
