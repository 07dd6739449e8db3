"""Keras callbacks that drive binarizer schedules."""

from typing import List

import tensorflow as tf


def scheduled_objects(model: tf.keras.Model) -> List:
    """Every layer or quantizer in `model` that has `update_schedule(epoch, epochs)`."""
    found, seen = [], set()
    for module in [model, *model.submodules]:
        if callable(getattr(module, "update_schedule", None)) and id(module) not in seen:
            seen.add(id(module))
            found.append(module)
    return found


class BinarizerSchedule(tf.keras.callbacks.Callback):
    """At the start of every epoch, update every scheduled binarizer in the model
    (ReCU's τ, FDA's Fourier terms and noise weight) for `epoch` of `epochs`.

    Arguments:
        epochs: the length E of the schedule, normally the training's epoch count.

    Example:
        >>> model.fit(x, y, epochs=10, callbacks=[BinarizerSchedule(epochs=10)])

    Raises:
        ValueError: if epochs is not a positive integer.
    """

    def __init__(self, epochs: int):
        super().__init__()
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
            raise ValueError(f"BinarizerSchedule epochs must be a positive integer; received {epochs!r}")
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        for binarizer in scheduled_objects(self.model):
            binarizer.update_schedule(epoch, self.epochs)
