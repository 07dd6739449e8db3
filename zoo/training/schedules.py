"""Learning-rate schedules as components (`optimizer.schedule=CosineDecay` on `lqz Train*`).

A schedule turns an optimizer's peak learning rate and the run's length into what a
Keras optimizer takes: a float, or a `LearningRateSchedule` evaluated at the optimizer's
0-based step count (`iterations` before the step). Epoch-valued fields are converted to
steps with the run's `steps_per_epoch`.
"""

import abc
from typing import Dict, Sequence, Union

import tensorflow as tf
from zookeeper import Field, component

from zoo.training import require

keras_schedules = tf.keras.optimizers.schedules
LearningRate = Union[float, keras_schedules.LearningRateSchedule]


class Schedule(abc.ABC):
    """Base of the schedule components: `schedule(learning_rate, total_steps, steps_per_epoch)`."""

    field_help: Dict[str, str] = {}

    @abc.abstractmethod
    def __call__(self, learning_rate: float, total_steps: int, steps_per_epoch: int) -> LearningRate:
        """The learning rate of each step of a run.

        Args:
            learning_rate: the peak (initial, or after warm-up) learning rate.
            total_steps: the run's optimizer steps (epochs x steps_per_epoch).
            steps_per_epoch: optimizer steps in one epoch.

        Returns:
            A float, or a Keras schedule of the 0-based step.

        Raises:
            UserError: if a field is out of range.
        """


@component
class Constant(Schedule):
    """The same learning rate at every step, after an optional linear warm-up from 0."""

    field_help = {"warmup_epochs": "epochs of linear warm-up from 0 to the learning rate (0: none)"}
    warmup_epochs: float = Field(0.0)

    def __call__(self, learning_rate: float, total_steps: int, steps_per_epoch: int) -> LearningRate:
        require(self, "warmup_epochs", lambda v: v >= 0, ">= 0")
        warmup = round(self.warmup_epochs * steps_per_epoch)
        if not warmup:
            return float(learning_rate)
        # alpha=1: the cosine part stays at the learning rate, leaving only the warm-up.
        return keras_schedules.CosineDecay(
            0.0, decay_steps=1, alpha=1.0, warmup_target=learning_rate, warmup_steps=warmup
        )


@component
class LinearDecay(Schedule):
    """Linear decay from the learning rate at step 0 to `final_learning_rate` at the
    last step, then constant (the LAB paper's recipe, and this toolkit's default)."""

    field_help = {"final_learning_rate": "reached at the last step (LAB paper: 1e-6)"}
    final_learning_rate: float = Field(1e-6)

    def __call__(self, learning_rate: float, total_steps: int, steps_per_epoch: int) -> LearningRate:
        require(self, "final_learning_rate", lambda v: v >= 0, ">= 0")
        return keras_schedules.PolynomialDecay(
            learning_rate, max(total_steps, 1), end_learning_rate=self.final_learning_rate, power=1.0
        )


@component
class CosineDecay(Schedule):
    """A linear warm-up from 0 over `warmup_epochs`, then a half cosine from the
    learning rate down to `final_learning_rate` at the last step (SGDR without
    restarts, Loshchilov & Hutter 2017; larq-zoo's QuickNet: 5 warm-up epochs)."""

    field_help = {
        "warmup_epochs": "epochs of linear warm-up from 0 to the learning rate (QuickNet: 5)",
        "final_learning_rate": "reached at the last step (QuickNet: 0)",
    }
    warmup_epochs: float = Field(0.0)
    final_learning_rate: float = Field(0.0)

    def __call__(self, learning_rate: float, total_steps: int, steps_per_epoch: int) -> LearningRate:
        require(self, "warmup_epochs", lambda v: v >= 0, ">= 0")
        require(self, "final_learning_rate", lambda v: 0 <= v <= learning_rate, f"in [0, {learning_rate}]")
        warmup = round(self.warmup_epochs * steps_per_epoch)
        return keras_schedules.CosineDecay(
            initial_learning_rate=0.0 if warmup else learning_rate,
            decay_steps=max(total_steps - warmup, 1),
            alpha=self.final_learning_rate / learning_rate,
            warmup_target=learning_rate if warmup else None,
            warmup_steps=warmup,
        )


@component
class StepDecay(Schedule):
    """The learning rate times `factor` after each boundary epoch (PyTorch's
    MultiStepLR; ResNet on ImageNet: x0.1 at epochs 30, 60, 90)."""

    field_help = {
        "boundaries": "epochs after which the learning rate is multiplied by factor (ResNet: 30,60,90)",
        "factor": "multiplier at each boundary (ResNet: 0.1)",
    }
    boundaries: Sequence[int] = Field((30, 60, 90))
    factor: float = Field(0.1)

    def __call__(self, learning_rate: float, total_steps: int, steps_per_epoch: int) -> LearningRate:
        require(
            self,
            "boundaries",
            lambda b: len(b) > 0 and b[0] > 0 and all(x < y for x, y in zip(b, b[1:])),
            "increasing positive epochs, e.g. 30,60,90",
        )
        require(self, "factor", lambda v: v > 0, "> 0")
        # Keras keeps values[i] while step <= boundary; epoch b starts at step b*spe.
        steps = [int(b) * steps_per_epoch - 1 for b in self.boundaries]
        values = [learning_rate * self.factor**i for i in range(len(steps) + 1)]
        return keras_schedules.PiecewiseConstantDecay(steps, values)
