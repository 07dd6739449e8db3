"""`lqz Train<Model>` holds its model and optimizer as components: one task per
registered model, every model Field settable as `model.<field>=` and listed in --help,
the issue's recipes as defaults, the old shorthands, and the refused keys."""

import re

import pytest
from zookeeper import configure
from zookeeper.core.cli import cli

from zoo.cli import load_tasks, main
from zoo.experiments import tasks
from zoo.experiments.run_config import model_fields
from zoo.experiments.tasks import TrainCompactBNN  # the import benchmarks/leaderboard_row uses
from zoo.models.factory import TASK_SET_FIELDS, configurable_fields
from zoo.models.registry import MODELS, ZooModel
from zoo.models.small_bnn import SmallBNNFactory
from zoo.task_help import UNDOCUMENTED
from zoo.training import describe

# The issue's table, transcribed: (epochs, batch, optimizer, peak learning rate,
# schedule, its fields, label_weight); SmallBNN and CompactBNN take the LAB paper's.
LAB = (100, 256, "Adam", 2.5e-3, "LinearDecay", {"final_learning_rate": 1e-6}, 1.0)
BOOLNET = ("RAdam", 2e-3, "CosineDecay", {"final_learning_rate": 1e-8, "warmup_epochs": 0.0}, 0.0)
ISSUE_TABLE = {
    "LabBNN": LAB,
    "SmallBNN": LAB,
    "CompactBNN": LAB,
    "BiRealNet": (150, 256, "Adam", 2.5e-3, "LinearDecay", {"final_learning_rate": 1e-6}, 1.0),
    "QuickNet": (
        150,
        512,
        "Adam",
        2.5e-3,
        "CosineDecay",
        {"warmup_epochs": 5.0, "final_learning_rate": 0.0},
        1.0,
    ),
    "XNORNet": (60, 128, "Adam", 1e-4, "LinearDecay", {"final_learning_rate": 1e-6}, 1.0),
    "ReActNet": (75, 128, "Adam", 2.5e-4, "LinearDecay", {"final_learning_rate": 0.0}, 1.0),
    "BoolNet": (80, 256, *BOOLNET),
    "BoolNetStar": (90, 256, *BOOLNET),
    "BaseNet": (120, 256, *BOOLNET),
}


def configured(name, **conf):
    task = getattr(tasks, f"Train{name}")()
    configure(task, conf)
    return task


def help_of(name, capsys):
    assert main([f"Train{name}", "--help"]) == 0
    return capsys.readouterr().out


def test_one_task_per_registered_model():
    load_tasks()
    for name in MODELS:
        cls = vars(tasks)[f"Train{name}"]
        assert cli.commands[f"Train{name}"].name == f"Train{name}"
        assert cls.model_name == name and cls.__component_fields__["model"]._default is MODELS[name].factory
        assert issubclass(cls, tasks.TrainWithTemperature) == MODELS[name].temperature
    assert TrainCompactBNN is tasks.TrainCompactBNN


def test_adding_a_model_adds_its_task():
    cls = tasks.make_task("TinyTestNet", ZooModel(None, (12, 12, 1), 4, SmallBNNFactory))
    try:
        assert cls.__name__ == "TrainTinyTestNet" and "TrainTinyTestNet" in cli.commands
        task = cls()
        configure(task, {"model.lab_blocks": (True, False, False, True)})
        assert model_fields(task)["lab_blocks"] == [True, False, False, True]
    finally:
        cli.commands.pop("TrainTinyTestNet", None)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_help_lists_every_model_field_with_default_and_meaning(name, capsys):
    shown = help_of(name, capsys)
    factory = MODELS[name].factory
    for field in configurable_fields(factory):
        line = re.search(rf"^\s+model\.{field} = (?P<default>\S.*?): (?P<meaning>.+)$", shown, re.M)
        assert line, f"`lqz Train{name} --help` does not list model.{field}"
        assert UNDOCUMENTED not in line["meaning"], f"model.{field} has no meaning"
    for field in TASK_SET_FIELDS:
        assert not re.search(rf"^\s+model\.{field} = ", shown, re.M), field
    assert re.search(r"^\s+optimizer\.schedule = \w+: ", shown, re.M)
    assert "Recipe (the defaults above): " in shown


@pytest.mark.parametrize("name", sorted(MODELS))
def test_defaults_are_the_issues_recipe_and_no_task_field_leaks_into_the_model(name):
    epochs, batch, optimizer, learning_rate, schedule, schedule_fields, label_weight = ISSUE_TABLE[name]
    shape = MODELS[name].small_input
    # input_shape and dataset are task fields that the model factory has too.
    task = configured(name, dataset="Synthetic", input_shape=shape, **{"dataset.input_shape": shape})
    assert (task.epochs, task.batch_size, task.label_weight) == (epochs, batch, label_weight)
    recorded = describe(task.optimizer)
    assert (recorded["name"], recorded["learning_rate"]) == (optimizer, learning_rate)
    assert recorded["schedule"] == {"name": schedule, **schedule_fields}
    if name.startswith(("BoolNet", "BaseNet")):
        assert (recorded["clipnorm"], recorded["weight_decay"]) == (2.5, 0.0)
    fresh = MODELS[name].factory()  # unconfigured: the factory's own defaults
    expected = {f: getattr(fresh, f) for f in configurable_fields(MODELS[name].factory)}
    assert model_fields(task) == {k: list(v) if isinstance(v, tuple) else v for k, v in expected.items()}


def test_quicknet_on_imagenet_takes_the_lab_forks_recipe_with_no_other_field():
    config = configured("QuickNet", dataset="ImageNet").resolved_config()
    assert (config["epochs"], config["batch_size"], config["input_shape"]) == (150, 512, [224, 224, 3])
    assert config["optimizer"]["schedule"] == {
        "name": "CosineDecay",
        "warmup_epochs": 5.0,
        "final_learning_rate": 0.0,
    }


def test_model_and_optimizer_fields_reach_config_json():
    task = configured(
        "BoolNet",
        **{
            "model.k": 2,
            "model.padding_mode": "one",
            "optimizer": "SGD",
            "optimizer.momentum": 0.8,
            "optimizer.schedule": "StepDecay",
            "optimizer.schedule.boundaries": (2, 4),
        },
    )
    config = task.resolved_config()
    assert (config["model_fields"]["k"], config["model_fields"]["padding_mode"]) == (2, "one")
    assert config["model_fields"]["feature_reuse"] is True  # the rest keep their defaults
    assert config["optimizer"]["name"] == "SGD" and config["optimizer"]["momentum"] == 0.8
    assert config["optimizer"]["schedule"]["name"] == "StepDecay"
    assert config["optimizer"]["schedule"]["boundaries"] == [2, 4]
    for key in ("teacher", "label_weight", "distillation_weight", "stage", "initialize_from"):
        assert key in config


def test_old_shorthands_become_component_keys_not_task_fields():
    task = configured(
        "CompactBNN",
        binarizer="lab",
        lab_blocks=(True, False, True, False),
        learning_rate=1e-3,
        final_learning_rate=1e-5,
    )
    fields = model_fields(task)
    assert (fields["binarizer"], fields["lab_blocks"]) == ("lab", [True, False, True, False])
    assert task.optimizer.learning_rate == 1e-3 and task.optimizer.schedule.final_learning_rate == 1e-5
    assert not {"binarizer", "lab_blocks", "learning_rate", "final_learning_rate"} & set(
        tasks.TrainCompactBNN.__component_fields__
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["TrainBoolNet", "model=QuickNet"],
            r"TrainBoolNet trains BoolNet, so model='QuickNet' cannot replace it",
        ),
        (
            ["TrainBoolNet", "model.num_classes=3"],
            r"model\.num_classes is set by the task \(from the dataset\)",
        ),
        (
            ["TrainLabBNN", "model.input_shape=32,32,3"],
            r"model\.input_shape is set by the task \(use input_shape=",
        ),
        (
            ["TrainLabBNN", "lab_blocks=True,True,True,True", "model.lab_blocks=True,True,True,True"],
            r"lab_blocks= is short for",
        ),
        (["TrainBoolNet", "model.k=two"], r"TrainBoolNet\.model\.k must be int; received 'two'"),
        (
            ["TrainLabBNN", "optimizer=Nadam"],
            r"TrainLabBNN\.optimizer must be one of Adam, .*RAdam, SGD; received 'Nadam'",
        ),
        (["TrainLabBNN", "stage=3"], r"stage must be 0, 1 or 2; received 3"),
        (
            ["TrainLabBNN", "distillation_weight=2.0"],
            r"distillation_weight=2\.0 weighs a distillation loss: it needs teacher=",
        ),
    ],
)
def test_refused_keys_are_one_line(args, message, capsys, tmp_path):
    assert main([*args, f"output_dir={tmp_path / 'out'}"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and re.match(message, lines[0].removeprefix("lqz: error: ")), lines
    assert not (tmp_path / "out").exists()
