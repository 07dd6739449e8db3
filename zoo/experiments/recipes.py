"""The published training recipes, each task's defaults (issue 16's table).

A `Recipe` gives a task its `epochs`, `batch_size`, `optimizer` (with its schedule) and
`label_weight` defaults, plus the citation that `lqz Train<Model> --help` and the README
print. Every value stays a field: `lqz TrainBoolNet epochs=10 optimizer.learning_rate=1e-3`
overrides the recipe, `lqz TrainQuickNet dataset=ImageNet` trains it as published.

Values the sources leave open are marked "(our choice)" in the citation.
"""

from dataclasses import dataclass
from typing import Dict

from zookeeper import PartialComponent

from zoo.training.optimizers import Adam, RAdam
from zoo.training.schedules import CosineDecay, LinearDecay


@dataclass(frozen=True)
class Recipe:
    """One model's published training setup.

    Attributes:
        epochs: epochs to train.
        batch_size: the global batch.
        optimizer: the optimizer component with its fields set, schedule included.
        citation: where the numbers come from, one line, shown in `--help`.
        label_weight: weight of the label cross-entropy when a teacher is set
            (BoolNet trains on the distillation loss alone: 0).
    """

    epochs: int
    batch_size: int
    optimizer: PartialComponent
    citation: str
    label_weight: float = 1.0


def adam_linear(learning_rate: float, final_learning_rate: float = 1e-6) -> PartialComponent:
    """Adam whose learning rate falls linearly to `final_learning_rate` at the last step."""
    schedule = PartialComponent(LinearDecay, final_learning_rate=final_learning_rate)
    return PartialComponent(Adam, learning_rate=learning_rate, schedule=schedule)


# BoolNet's code (hpi-xnor/BoolNet): RAdam 2e-3, cosine annealing to 1e-8, gradient norm
# clipped at 2.5, no weight decay. Its CosineAnnealingLR steps per epoch; ours per step.
BOOLNET_OPTIMIZER = PartialComponent(
    RAdam,
    learning_rate=2e-3,
    clipnorm=2.5,
    weight_decay=0.0,
    schedule=PartialComponent(CosineDecay, final_learning_rate=1e-8),
)
BOOLNET_SOURCE = (
    "BoolNet repo (hpi-xnor/BoolNet, Guo et al. 2021): batch 256, RAdam 2e-3, cosine to "
    "1e-8 (per step here, per epoch there), gradient norm clipped at 2.5, weight decay 0, "
    "loss = the distillation cross-entropy alone against a ResNet-34 teacher "
    "(label_weight=0 when teacher= is set; without a teacher the label loss trains)"
)

RECIPES: Dict[str, Recipe] = {
    "LabBNN": Recipe(
        100,
        256,
        adam_linear(2.5e-3),
        "LAB paper (WACV 2023) and the LAB fork: 100 epochs, batch 256, Adam 2.5e-3 "
        "decaying linearly to 1e-6",
    ),
    "BiRealNet": Recipe(
        150,
        256,
        adam_linear(2.5e-3),
        "LAB fork: 150 epochs, batch 256, Adam 2.5e-3 decaying linearly (to 1e-6 as the "
        "LAB recipe: our choice, the fork's table gives no end value)",
    ),
    "QuickNet": Recipe(
        150,
        512,
        PartialComponent(
            Adam,
            learning_rate=2.5e-3,
            schedule=PartialComponent(CosineDecay, warmup_epochs=5.0, final_learning_rate=0.0),
        ),
        "LAB fork: 150 epochs, batch 512, Adam with a 5-epoch linear warm-up to 2.5e-3, "
        "then cosine decay to 0; larq-zoo's own uses larq's CaseOptimizer (a binary-kernel "
        "optimizer + another for the rest): optimizer=CaseOptimizer",
    ),
    "XNORNet": Recipe(
        60,
        128,
        adam_linear(1e-4),
        "LAB fork: 60 epochs, batch 128, learning rate 1e-4 (Adam decaying linearly to "
        "1e-6: our choice, the table names neither)",
    ),
    "ReActNet": Recipe(
        75,
        128,
        adam_linear(2.5e-4, 0.0),
        "LAB fork: 75 epochs, batch 128, Adam 2.5e-4 decaying linearly to 0 (the ReActNet "
        "paper's decay); the paper trains two stages with a float teacher: stage=1 "
        "teacher=T, then stage=2 initialize_from=<stage-1 run>",
    ),
    "BoolNet": Recipe(80, 256, BOOLNET_OPTIMIZER, f"{BOOLNET_SOURCE}; 80 epochs (k=4)", 0.0),
    "BoolNetStar": Recipe(90, 256, BOOLNET_OPTIMIZER, f"{BOOLNET_SOURCE}; 90 epochs (BoolNet*)", 0.0),
    "BaseNet": Recipe(120, 256, BOOLNET_OPTIMIZER, f"{BOOLNET_SOURCE}; 120 epochs (BaseNet)", 0.0),
}

# SmallBNN and CompactBNN (ours, no paper recipe) train as the LAB paper does.
DEFAULT_RECIPE = Recipe(
    100,
    256,
    adam_linear(2.5e-3),
    "no published recipe for this model: the LAB paper's (100 epochs, batch 256, Adam "
    "2.5e-3 decaying linearly to 1e-6)",
)


def recipe_for(model_name: str) -> Recipe:
    """The recipe of a registered model, or the LAB paper's for ours."""
    return RECIPES.get(model_name, DEFAULT_RECIPE)
