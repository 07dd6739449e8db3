"""The `lqz Train<Model>` tasks: one per zoo model, all sharing TrainZooModel's fields."""

from zookeeper import Field
from zookeeper import task as zookeeper_task
from zookeeper.core.cli import cli

from zoo.experiments.train import TrainZooModel


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


@task
class TrainBoolNet(TrainZooModel):
    """BoolNet (k = 4 slices) with per-stage LAB placement."""

    model_name = "BoolNet"


@task
class TrainBaseNet(TrainZooModel):
    """BoolNet's BaseNet (k = 1), a Bi-Real-like baseline built from BoolNet parts."""

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
