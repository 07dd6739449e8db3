"""The `lqz Train<Model>` tasks: one per zoo model, all sharing TrainZooModel's fields."""

from typing import Optional

from lab_bnn import TemperatureSchedule
from lab_bnn.errors import UserError

from zookeeper import Field
from zookeeper import task as zookeeper_task
from zookeeper.core.cli import cli

from zoo.experiments.train import TrainZooModel

# BoolNet's progressive binarization (paper and code): T <- 0.965·T every 1000 steps,
# at batch 256 on ImageNet, i.e. ⌈1,281,167 / 256⌉ = 5005 steps per epoch.
BOOLNET_TEMPERATURE_FACTOR = 0.965
BOOLNET_EVERY_N_STEPS = 1000
BOOLNET_STEPS_PER_EPOCH = 5005


def task(cls):
    """zookeeper's @task, with `lqz <Task> --help` listing the fields and defaults."""
    cls = zookeeper_task(cls)
    cli.commands[cls.__name__].help = cls.help_text()
    return cls


@task
class TrainLabBNN(TrainZooModel):
    """LabBNN (LAB paper) with LAB in every stage unless lab_blocks says otherwise."""

    model_name = "LabBNN"


@task
class TrainBiRealNet(TrainZooModel):
    """Bi-Real Net 18; lab_blocks=True,True,True,True gives the LAB paper's variant."""

    model_name = "BiRealNet"


@task
class TrainQuickNet(TrainZooModel):
    """larq-zoo's QuickNet with per-stage LAB placement."""

    model_name = "QuickNet"


@task
class TrainXNORNet(TrainZooModel):
    """XNOR-Net (AlexNet-style) with per-stage LAB placement."""

    model_name = "XNORNet"


@task
class TrainReActNet(TrainZooModel):
    """ReActNet-A (MobileNetV1 backbone, RSign/RPReLU) with per-stage LAB placement."""

    model_name = "ReActNet"


class TrainWithTemperature(TrainZooModel):
    """A task whose model binarizes weights with `progressive_sign`: training drives
    its temperature, T <- 0.965·T every `temperature_every_n_steps` steps, so what is
    trained, hardtanh(W/T)·mean|W|, slides to what is deployed, sign(W)·mean|W|.

    The default N keeps BoolNet's ImageNet rate per epoch (1000 of 5005 steps, about 5
    decays an epoch): N = round(1000 · steps_per_epoch / 5005), at least 1.
    """

    temperature_every_n_steps: Optional[int] = Field(None)

    def __post_configure__(self):
        n = self.temperature_every_n_steps
        if n is not None and (isinstance(n, bool) or n < 1):
            raise UserError(
                f"temperature_every_n_steps must be a positive integer or None "
                f"(BoolNet's rate scaled to the dataset); received {n!r}"
            )

    def temperature_steps(self, steps_per_epoch: int) -> int:
        """N: the field, or BoolNet's ImageNet rate scaled to `steps_per_epoch`."""
        if self.temperature_every_n_steps is not None:
            return self.temperature_every_n_steps
        return max(1, round(BOOLNET_EVERY_N_STEPS * steps_per_epoch / BOOLNET_STEPS_PER_EPOCH))

    def extra_callbacks(self, steps_per_epoch: int) -> list:
        every = self.temperature_steps(steps_per_epoch)
        print(f"weight temperature: T <- {BOOLNET_TEMPERATURE_FACTOR}*T every {every} steps")
        return [TemperatureSchedule(every_n_steps=every, factor=BOOLNET_TEMPERATURE_FACTOR)]

    def resolved_config(self) -> dict:
        return {**super().resolved_config(), "temperature_every_n_steps": self.temperature_every_n_steps}


@task
class TrainBoolNet(TrainWithTemperature):
    """BoolNet (k = 4 slices) with per-stage LAB placement and its weight temperature.

    T falls ×0.965 every temperature_every_n_steps steps (default: BoolNet's ImageNet
    rate, 1000 steps of a 5005-step epoch, scaled to this dataset's steps per epoch).
    """

    model_name = "BoolNet"


@task
class TrainBaseNet(TrainWithTemperature):
    """BoolNet's BaseNet (k = 1), a Bi-Real-like baseline built from BoolNet parts.

    Its weight temperature falls as TrainBoolNet's (temperature_every_n_steps).
    """

    model_name = "BaseNet"


@task
class TrainSmallBNN(TrainZooModel):
    """The small Bi-Real-style BNN (4 binary blocks) that trains in minutes on a CPU."""

    model_name = "SmallBNN"


@task
class TrainCompactBNN(TrainZooModel):
    """CompactBNN (the Quickstart's and Leaderboard's network) with any paper's
    binarizer (binarizer=bnn|lab|react_net|...|boolnet_k4|float)."""

    model_name = "CompactBNN"
    binarizer: str = Field("bnn")

    def model_options(self) -> dict:
        return {"binarizer": self.binarizer}
