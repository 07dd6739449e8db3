"""The `lqz Train<Model>` tasks, one per model of zoo.models.registry.MODELS (adding a
model there adds its task): each holds its model's factory as the `model` component
and its paper's recipe (zoo.experiments.recipes) as its defaults."""

import inspect
from typing import Optional

from lab_bnn import TemperatureSchedule
from lab_bnn.errors import UserError

from zookeeper import ComponentField, Field
from zookeeper.core.component import base_getattr

from zoo.experiments.recipes import recipe_for
from zoo.experiments.train import TrainZooModel
from zoo.models.registry import MODELS, ZooModel
from zoo.task_help import task
from zoo.training.optimizers import describe

# BoolNet's progressive binarization (paper and code): T <- 0.965·T every 1000 steps,
# at batch 256 on ImageNet, i.e. ⌈1,281,167 / 256⌉ = 5005 steps per epoch.
BOOLNET_TEMPERATURE_FACTOR = 0.965
BOOLNET_EVERY_N_STEPS = 1000
BOOLNET_STEPS_PER_EPOCH = 5005


class TrainWithTemperature(TrainZooModel):
    """A task whose model binarizes weights with `progressive_sign`: training drives
    its temperature, T <- 0.965·T every `temperature_every_n_steps` steps, so what is
    trained, hardtanh(W/T)·mean|W|, slides to what is deployed, sign(W)·mean|W|.

    The default N keeps BoolNet's ImageNet rate per epoch (1000 of 5005 steps, about 5
    decays an epoch): N = round(1000 · steps_per_epoch / 5005), at least 1.
    """

    field_help = {
        "temperature_every_n_steps": "N of BoolNet's weight temperature schedule, "
        "T <- 0.965*T every N steps; None = BoolNet's ImageNet "
        "rate (N = 1000 of 5005 steps per epoch) scaled to this "
        "run: round(1000 * steps_per_epoch / 5005), at least 1",
    }
    temperature_every_n_steps: Optional[int] = Field(None)

    def __post_configure__(self):
        super().__post_configure__()
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
        if "Bop" in component_names(describe(base_getattr(self, "optimizer"))):
            print(
                "note: Bop trains the binary kernels, whose latent weights it sets to ±1, so "
                "the temperature no longer changes what is trained"
            )
        return [TemperatureSchedule(every_n_steps=every, factor=BOOLNET_TEMPERATURE_FACTOR)]

    def resolved_config(self) -> dict:
        return {**super().resolved_config(), "temperature_every_n_steps": self.temperature_every_n_steps}


def component_names(record) -> set:
    """The class names in a `describe()` record, at any depth."""
    if not isinstance(record, dict):
        return set()
    return {record.get("name"), *(n for value in record.values() for n in component_names(value))}


def make_task(name: str, entry: ZooModel) -> type:
    """The @task `Train<name>`: `entry.factory` as its model, its recipe as defaults,
    and the weight temperature schedule if the model has one."""
    recipe = recipe_for(name)
    summary = inspect.cleandoc(entry.factory.__doc__ or name).split("\n\n")[0]
    cls = type(
        f"Train{name}",
        (TrainWithTemperature if entry.temperature else TrainZooModel,),
        {
            "__module__": __name__,
            "__qualname__": f"Train{name}",
            "__doc__": f"Train {name}, with its paper's recipe as the defaults (source below).\n\n{summary}",
            "model_name": name,
            "recipe": recipe,
            "model": ComponentField(entry.factory),
            "optimizer": ComponentField(recipe.optimizer),
            "epochs": Field(recipe.epochs),
            "batch_size": Field(recipe.batch_size),
            "label_weight": Field(recipe.label_weight),
        },
    )
    return task(cls)


for _name, _entry in MODELS.items():
    globals()[f"Train{_name}"] = make_task(_name, _entry)
