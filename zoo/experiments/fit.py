"""The training loop of `lqz Train<Model>`: Keras `fit` with the run's callbacks, then
the final model.h5 and fingerprints, all of the student (never of a teacher)."""

import hashlib
from pathlib import Path

from lab_bnn import BinarizerSchedule

import numpy as np
import tensorflow as tf

from zoo.experiments.checkpoints import LogOptimizerIterations, SaveEachEpoch, TrainingState
from zoo.experiments.fingerprint import write_fingerprint
from zoo.experiments.model_summary import write_model_summary
from zoo.experiments.single_trace import create_step_variables


def student_of(trainer: tf.keras.Model) -> tf.keras.Model:
    """The model being trained: a Distiller's student, else the trainer itself."""
    return getattr(trainer, "student", trainer)


class StudentView:
    """What a schedule callback reads from "the model": the trainer's optimizer (its
    step count) and the student's layers only, so a teacher is never scheduled."""

    def __init__(self, trainer: tf.keras.Model):
        self.optimizer = trainer.optimizer
        self.submodules = student_of(trainer).submodules


def on_student(callback: tf.keras.callbacks.Callback) -> tf.keras.callbacks.Callback:
    """`callback`, given a StudentView of the trainer instead of the trainer by fit."""
    keras_set_model = callback.set_model
    callback.set_model = lambda trainer: keras_set_model(StudentView(trainer))
    return callback


def fit_and_save(
    trainer: tf.keras.Model,
    state: TrainingState,
    folder: Path,
    train_batches,
    validation_batches,
    *,
    epochs: int,
    steps_per_epoch: int,
    validation_steps: int,
    verbose: int,
    extra_callbacks: list,
) -> None:
    """Train from the epoch `state` restored to `epochs`, checkpointing every epoch,
    then write the student's summary, model.h5 (atomically) and fingerprints."""
    student = student_of(trainer)
    print(write_model_summary(student, folder))
    create_step_variables(trainer, student, train_batches.element_spec)
    trainer.fit(
        train_batches,
        epochs=epochs,
        initial_epoch=int(state.epoch.numpy()),
        steps_per_epoch=steps_per_epoch,
        validation_data=validation_batches,
        validation_steps=validation_steps,
        verbose=verbose,
        callbacks=[
            LogOptimizerIterations(),
            tf.keras.callbacks.CSVLogger(str(folder / "metrics.csv"), append=True),
            tf.keras.callbacks.TensorBoard(str(folder / "tensorboard"), write_graph=False, profile_batch=0),
            SaveEachEpoch(state),
            on_student(BinarizerSchedule(epochs=epochs)),  # per-epoch: ReCU's τ, FDA's terms
            *[on_student(callback) for callback in extra_callbacks],
        ],
    )
    final, partial = folder / "model.h5", folder / ".model.h5.partial"
    # The optimizer's state lives in checkpoints/; in .h5 it is keyed by variable name,
    # which Keras leaves without the layer prefix in a model rebuilt from its config
    # (stage 1's), so two kernels would collide.
    student.save(str(partial), save_format="h5", include_optimizer=False)
    partial.replace(final)  # a kill while saving never leaves half a model.h5
    write_fingerprint(student, validation_batches, folder)
    print(f"final model: {final}")
    print(f"trainable weights sha256: {weights_fingerprint(student)}")


def weights_fingerprint(model: tf.keras.Model) -> str:
    """A hash of the trainable weights' bytes, to compare replicas or runs."""
    digest = hashlib.sha256()
    for weight in model.trainable_weights:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()
