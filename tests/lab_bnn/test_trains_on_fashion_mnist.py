"""Every binarizer and layer trains: a 4-conv net, 20 steps on a Fashion-MNIST slice."""

from lab_bnn import BinarizerSchedule
from lab_bnn.quantizers import BINARIZERS
from lab_bnn.recipes import RECIPES, Recipe

import numpy as np
import pytest
import tensorflow as tf

from zoo.datasets import load_fashion_mnist

STEPS, BATCH = 20, 32
LAYER_RECIPES = [name for name, r in RECIPES.items() if r.conv_layer or r.activation_layer]


def recipe_for(alias):
    if BINARIZERS.card(alias).role == "activation":
        return Recipe(alias, alias, "bnn")
    return Recipe(alias, "bnn", alias)


def four_conv_net(recipe):
    """A float stem conv and three binary convs of the recipe, BN after each."""
    inputs = tf.keras.Input((28, 28, 1))
    x = tf.keras.layers.Conv2D(32, 3, padding="same", use_bias=False)(inputs)
    x = tf.keras.layers.BatchNormalization()(x)
    for pool in (True, True, False):
        x = recipe.conv2d(32, 3, padding="same", use_bias=False)(x)
        x = tf.keras.layers.BatchNormalization()(x)
        activation = recipe.activation()
        if activation is not None:
            x = activation(x)
        if pool:
            x = tf.keras.layers.MaxPool2D()(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(10)(x))


@pytest.fixture(scope="module")
def fashion_slice():
    images, labels = load_fashion_mnist("train")
    return (images[: STEPS * BATCH, ..., None] / 255.0).astype(np.float32), labels[: STEPS * BATCH]


@pytest.mark.parametrize("name", BINARIZERS.available() + [f"recipe:{r}" for r in LAYER_RECIPES])
def test_loss_falls_over_20_steps(name, fashion_slice):
    tf.keras.utils.set_random_seed(0)
    recipe = RECIPES[name[7:]] if name.startswith("recipe:") else recipe_for(name)
    model = four_conv_net(recipe)
    model.compile(
        tf.keras.optimizers.Adam(5e-3), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    images, labels = fashion_slice
    convs = [l for l in model.layers if isinstance(l, tf.keras.layers.Conv2D)]
    kernels_before = [l.kernel.numpy().copy() for l in convs]
    history = model.fit(
        images,
        labels,
        batch_size=BATCH,
        epochs=1,
        verbose=0,
        shuffle=False,
        callbacks=[BinarizerSchedule(epochs=1), BatchLosses()],
    )
    losses = history.model.batch_losses
    assert len(losses) == STEPS and np.isfinite(losses).all()
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.1, losses
    # The stem learns only if gradients pass back through all three binarizers, and
    # each binary kernel only if its weight binarizer passes a gradient.
    for layer, before in zip(convs, kernels_before):
        assert np.abs(layer.kernel.numpy() - before).mean() > 1e-4, f"{layer.name} did not learn"


class BatchLosses(tf.keras.callbacks.Callback):
    """Keras reports a running mean; recover each batch's own loss from it."""

    def on_train_begin(self, logs=None):
        self.model.batch_losses = []
        self._running = 0.0

    def on_train_batch_end(self, batch, logs=None):
        mean = logs["loss"]
        self.model.batch_losses.append(mean * (batch + 1) - self._running * batch)
        self._running = mean
