"""Per-epoch checkpoints of weights, optimizer state and epoch; resuming from them."""

from pathlib import Path
from typing import Optional

import tensorflow as tf


class TrainingState:
    """The model, its optimizer (iterations and slots) and the epochs completed, saved
    by a tf.train.CheckpointManager. TensorFlow writes the checkpoint files first and
    replaces the `checkpoint` index atomically afterwards, so a kill while saving
    leaves the previous checkpoint as the latest good one."""

    def __init__(self, model: tf.keras.Model, directory: Path, max_to_keep: int = 3):
        self.model = model
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epochs_completed")
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer, epoch=self.epoch)
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
        self.model.optimizer.build(self.model.trainable_variables)
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
