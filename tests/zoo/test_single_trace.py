"""create_step_variables: with it `fit` traces its train step once and creates no
variable, and training gives the weights a run without it gives (the oracle), for every
optimizer component, with and without a teacher."""

from lab_bnn.errors import UserError  # noqa: F401  (selects Keras 2 before TensorFlow)

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from zoo.experiments.single_trace import create_step_variables
from zoo.training.distillation import Distiller
from zoo.training.optimizers import SGD, Adam, CaseOptimizer, RAdam

OPTIMIZERS = {"Adam": Adam, "RAdam": RAdam, "SGD": SGD, "CaseOptimizer": CaseOptimizer}
CLASSES, STEPS, BATCH = 3, 2, 4


def binary_model(seed: int) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(seed)
    inputs = tf.keras.Input((6, 6, 2))
    x = tf.keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = tf.keras.layers.BatchNormalization()(x)
    x = lq.layers.QuantConv2D(
        4, 3, input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip"
    )(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(CLASSES)(x))


def batches() -> tf.data.Dataset:
    data = np.random.RandomState(0)
    images = data.normal(0, 1, (STEPS * BATCH, 6, 6, 2)).astype("float32")
    labels = data.randint(0, CLASSES, STEPS * BATCH).astype("int64")
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(BATCH)


def trained(optimizer_name: str, with_teacher: bool, create_first: bool):
    """(weights after STEPS steps, train-step traces, variables fit created)."""
    student = binary_model(seed=1)
    optimizer = OPTIMIZERS[optimizer_name]().build(total_steps=10, steps_per_epoch=STEPS)
    if with_teacher:
        trainer = Distiller(student, binary_model(seed=2))
        trainer.compile(optimizer=optimizer, metrics=["accuracy"])
    else:
        trainer = student
        trainer.compile(
            optimizer=optimizer,
            loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
    data = batches()
    if create_first:
        create_step_variables(trainer, student, data.element_spec)
    created = []

    def record(next_creator, **kwargs):
        created.append(kwargs.get("name"))
        return next_creator(**kwargs)

    with tf.variable_creator_scope(record):
        trainer.fit(data, epochs=1, verbose=0)
    weights = [np.array(tf.convert_to_tensor(w)) for w in student.weights]
    return weights, trainer.train_function.experimental_get_tracing_count(), created


@pytest.mark.parametrize("with_teacher", [False, True], ids=["student", "distiller"])
@pytest.mark.parametrize("optimizer_name", sorted(OPTIMIZERS))
def test_one_trace_and_the_same_weights_as_without(optimizer_name, with_teacher):
    expected, traces_without, created_without = trained(optimizer_name, with_teacher, create_first=False)
    weights, traces, created = trained(optimizer_name, with_teacher, create_first=True)
    assert traces_without == 2 and created_without, (
        "the oracle run should create variables in its first trace"
    )
    assert traces == 1 and created == []
    for got, want in zip(weights, expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
