"""Per-epoch checkpoints of weights, optimizer state and epoch; resuming from them."""

from pathlib import Path
from typing import Optional, Sequence

import tensorflow as tf


def create_slots(optimizer, var_list: Sequence[tf.Variable]) -> None:
    """Create every variable `optimizer` will hold for `var_list` (step counter,
    hyper-parameters, slots such as Adam's m and v), as its first step would.

    A checkpoint restores into variables that exist; creating them first makes the
    restore immediate and lets `assert_consumed` prove that every saved value found
    its variable. Handles the new Keras optimizers, the legacy ones and our
    `ZooCaseOptimizer` (larq's CaseOptimizer creates its children's variables only
    at the first step, so restoring it fails `assert_consumed`).

    Args:
        optimizer: a Keras optimizer (new API or legacy) or a ZooCaseOptimizer.
        var_list: the variables it trains (the model's trainable variables).
    """
    if isinstance(optimizer, tf.keras.optimizers.legacy.Optimizer):
        optimizer._create_all_weights(var_list)  # legacy optimizers have no public `build`
    else:
        optimizer.build(var_list)


class TrainingState:
    """The model, its optimizer (iterations and slots) and the epochs completed, saved
    by a tf.train.CheckpointManager. TensorFlow writes the checkpoint files first and
    replaces the `checkpoint` index atomically afterwards, so a kill while saving
    leaves the previous checkpoint as the latest good one.

    Args:
        model: the model whose weights are saved (a distiller's student, say).
        directory: where checkpoints are written.
        max_to_keep: how many recent checkpoints to keep.
        optimizer: the optimizer training `model`'s trainable variables; None: `model.optimizer`.
    """

    def __init__(self, model: tf.keras.Model, directory: Path, max_to_keep: int = 3, optimizer=None):
        self.model = model
        self.optimizer = model.optimizer if optimizer is None else optimizer
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epochs_completed")
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=self.optimizer, epoch=self.epoch)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(directory), max_to_keep=max_to_keep)

    def save(self, epochs_completed: int) -> str:
        self.epoch.assign(epochs_completed)
        return self.manager.save(checkpoint_number=epochs_completed)

    def restore_latest(self, directory: Optional[Path] = None) -> Optional[str]:
        """Restore the newest checkpoint in `directory` (default: where this state
        saves; a non-chief worker reads the chief's), if any, and return its path.

        The optimizer's slots are created first so that they are restored now, not
        lazily at the first step; `assert_consumed` then proves every saved value
        found its variable.
        """
        path = tf.train.latest_checkpoint(str(directory)) if directory else self.manager.latest_checkpoint
        if path is None:
            return None
        create_slots(self.optimizer, self.model.trainable_variables)
        self.checkpoint.restore(path).assert_consumed()
        return path


class SaveEachEpoch(tf.keras.callbacks.Callback):
    """Checkpoint the training state at every epoch end."""

    def __init__(self, state: TrainingState):
        super().__init__()
        self.state = state

    def on_epoch_end(self, epoch, logs=None):
        self.state.save(epoch + 1)


class LogOptimizerIterations(tf.keras.callbacks.Callback):
    """Adds `iterations` (optimizer steps so far) to the epoch logs, e.g. the CSV."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["iterations"] = int(self.model.optimizer.iterations.numpy())
