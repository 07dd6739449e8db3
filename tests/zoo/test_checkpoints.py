"""Training state checkpoints: exact restore of weights, optimizer slots and epoch;
run folders that never overwrite; metrics trimmed to the resumed epoch."""

import csv

import numpy as np
import tensorflow as tf

from zoo.experiments.checkpoints import TrainingState
from zoo.experiments.run_folder import new_run_dir, trim_metrics
from zoo.models import SmallBNN


def trained_model(rng, steps):
    tf.keras.utils.set_random_seed(0)
    model = SmallBNN(input_shape=(8, 8, 1), lab_blocks=(True, False, True, False))
    model.compile(
        tf.keras.optimizers.Adam(1e-2), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    for _ in range(steps):
        model.train_on_batch(rng.rand(4, 8, 8, 1), rng.randint(0, 10, 4))
    return model


def test_restore_gives_identical_weights_optimizer_slots_and_epoch(tmp_path, rng):
    model = trained_model(rng, steps=3)
    TrainingState(model, tmp_path).save(epochs_completed=2)

    fresh = trained_model(rng, steps=0)
    state = TrainingState(fresh, tmp_path)
    assert state.restore_latest().endswith("ckpt-2")
    assert int(state.epoch.numpy()) == 2
    assert int(fresh.optimizer.iterations.numpy()) == 3
    for saved, restored in zip(model.weights, fresh.weights):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())
    saved_slots, restored_slots = model.optimizer.variables(), fresh.optimizer.variables()
    assert len(saved_slots) == len(restored_slots) > 1
    for saved, restored in zip(saved_slots, restored_slots):
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
