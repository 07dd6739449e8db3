"""Keras callbacks that drive binarizer schedules."""

from typing import List

from lab_bnn.errors import UserError
from lab_bnn.quantizers.progressive_sign import ProgressiveSign

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
    ProgressiveSign's T follows steps, not epochs: use TemperatureSchedule for it.

    Arguments:
        epochs: the length E of the schedule, normally the training's epoch count.

    Example:
        >>> model.fit(x, y, epochs=10, callbacks=[BinarizerSchedule(epochs=10)])

    Raises:
        UserError: if epochs is not a positive integer.
    """

    def __init__(self, epochs: int):
        super().__init__()
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
            raise UserError(f"BinarizerSchedule epochs must be a positive integer; received {epochs!r}")
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        for binarizer in scheduled_objects(self.model):
            binarizer.update_schedule(epoch, self.epochs)


class TemperatureSchedule(tf.keras.callbacks.Callback):
    """Progressive weight binarization: after every `every_n_steps` training steps,
    T ← factor·T for every ProgressiveSign in the model, so after n steps
    T = T0·factor^⌊n/N⌋ (BoolNet: factor 0.965, N = 1000 on ImageNet).

    Steps are the optimizer's `iterations`, which a training checkpoint restores along
    with T, so a resumed run continues the schedule where it stopped.

    Arguments:
        every_n_steps: N, a positive integer.
        factor: the multiplier, in (0, 1].

    Example:
        >>> model.fit(x, y, callbacks=[TemperatureSchedule(every_n_steps=1000)])

    Raises:
        UserError: for a non-positive N or a factor outside (0, 1].
    """

    def __init__(self, every_n_steps: int = 1000, factor: float = 0.965):
        super().__init__()
        if not isinstance(every_n_steps, int) or isinstance(every_n_steps, bool) or every_n_steps < 1:
            raise UserError(
                f"TemperatureSchedule every_n_steps must be a positive integer; received {every_n_steps!r}"
            )
        if not isinstance(factor, (int, float)) or isinstance(factor, bool) or not 0 < factor <= 1:
            raise UserError(f"TemperatureSchedule factor must be in (0, 1]; received {factor!r}")
        self.every_n_steps, self.factor = every_n_steps, float(factor)
        self._decays = 0

    def _decays_so_far(self) -> int:
        return int(self.model.optimizer.iterations.numpy()) // self.every_n_steps

    def on_train_begin(self, logs=None):
        self._decays = self._decays_so_far()

    def on_train_batch_end(self, batch, logs=None):
        decays = self._decays_so_far()
        if decays > self._decays:  # more than one with steps_per_execution > 1
            multiplier = self.factor ** (decays - self._decays)
            self._decays = decays
            for quantizer in progressive_signs(self.model):
                quantizer.current_temperature.assign(quantizer.current_temperature * multiplier)


def progressive_signs(model: tf.keras.Model) -> List[ProgressiveSign]:
    """Every ProgressiveSign in `model`, at any depth."""
    return [module for module in model.submodules if isinstance(module, ProgressiveSign)]
