"""Training state checkpoints: exact restore of weights, optimizer slots and epoch;
run folders that never overwrite; metrics trimmed to the resumed epoch."""

import csv

import numpy as np
import pytest
import tensorflow as tf

from zoo.experiments.checkpoints import TrainingState
from zoo.experiments.run_folder import new_run_dir, trim_metrics
from zoo.models import SmallBNN
from zoo.training.optimizers import SGD, CaseOptimizer, RAdam
from zoo.training.schedules import CosineDecay

# Each builds a fresh optimizer: the new Keras API, a legacy one, and larq's
# CaseOptimizer (legacy children) as ZooCaseOptimizer. Our RAdam is restored below.
OPTIMIZERS = {
    "adam": lambda: tf.keras.optimizers.Adam(1e-2),
    "legacy_sgd": lambda: SGD(nesterov=True).build(20, 2, legacy=True),
    "case_bop_adam": lambda: CaseOptimizer().build(20, 2),
}


def optimizer_variables(optimizer):
    variables = optimizer.weights if isinstance(optimizer, tf.keras.optimizers.legacy.Optimizer) else None
    return variables if variables is not None else optimizer.variables()


def trained_model(rng, steps, optimizer="adam"):
    tf.keras.utils.set_random_seed(0)
    model = SmallBNN(input_shape=(8, 8, 1), lab_blocks=(True, False, True, False))
    model.compile(OPTIMIZERS[optimizer](), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    for _ in range(steps):
        model.train_on_batch(rng.rand(4, 8, 8, 1), rng.randint(0, 10, 4))
    return model


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_restore_gives_identical_weights_optimizer_slots_and_epoch(tmp_path, rng, optimizer):
    model = trained_model(rng, steps=3, optimizer=optimizer)
    TrainingState(model, tmp_path).save(epochs_completed=2)

    fresh = trained_model(rng, steps=0, optimizer=optimizer)
    state = TrainingState(fresh, tmp_path)
    assert state.restore_latest().endswith("ckpt-2")  # assert_consumed: every saved value placed
    assert int(state.epoch.numpy()) == 2
    assert int(fresh.optimizer.iterations.numpy()) == 3
    for saved, restored in zip(model.weights, fresh.weights):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())
    saved_slots, restored_slots = optimizer_variables(model.optimizer), optimizer_variables(fresh.optimizer)
    assert len(saved_slots) == len(restored_slots) > 1
    for saved, restored in zip(saved_slots, restored_slots):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())


def test_an_explicit_optimizer_is_saved_in_place_of_the_models(tmp_path, rng):
    """A distiller trains the student with its own optimizer: the state saves the
    student's weights with that optimizer's slots, under the same keys."""
    student = trained_model(rng, steps=0)
    optimizer = RAdam(weight_decay=1e-4, schedule=CosineDecay(warmup_epochs=1.0)).build(20, 2)
    images, labels = rng.rand(4, 8, 8, 1), rng.randint(0, 10, 4)
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(
                tf.keras.losses.sparse_categorical_crossentropy(labels, student(images), from_logits=True)
            )
        optimizer.apply_gradients(
            zip(tape.gradient(loss, student.trainable_variables), student.trainable_variables)
        )
    TrainingState(student, tmp_path, optimizer=optimizer).save(epochs_completed=1)
    reader = tf.train.load_checkpoint(str(tmp_path / "ckpt-1"))
    assert reader.get_tensor("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE") == 2

    restored_optimizer = RAdam(weight_decay=1e-4, schedule=CosineDecay(warmup_epochs=1.0)).build(20, 2)
    fresh = trained_model(rng, steps=0)
    TrainingState(fresh, tmp_path, optimizer=restored_optimizer).restore_latest()  # assert_consumed
    assert int(restored_optimizer.iterations.numpy()) == 2
    for saved, restored in zip(optimizer.variables(), restored_optimizer.variables()):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())


def test_nothing_to_restore_returns_none(tmp_path, rng):
    assert TrainingState(trained_model(rng, steps=0), tmp_path).restore_latest() is None


def test_a_taken_run_folder_is_never_reused(tmp_path):
    first = new_run_dir(tmp_path, "exp")
    (first / "model.h5").write_text("keep me")
    second = new_run_dir(tmp_path, "exp")
    assert (first.name, second.name) == ("exp", "exp-2")
    assert (first / "model.h5").read_text() == "keep me"


def test_metrics_of_epochs_to_redo_are_trimmed(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,loss\n0,2.0\n1,1.5\n2,1.2\n")
    trim_metrics(path, epochs_done=2)
    assert [row["epoch"] for row in csv.DictReader(path.open())] == ["0", "1"]
