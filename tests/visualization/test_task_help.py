"""Registry-driven: every `lqz` task of ours (zoo's experiments and every module of the
`lab_bnn.tasks` entry points) lists each of its fields, with its default and meaning,
in `lqz <Task> --help`."""

import importlib
import inspect
import re
from importlib.metadata import entry_points

import pytest
from zookeeper.core.cli import cli

from zoo.cli import TASK_ENTRY_POINTS, ZOO_EXPERIMENTS, load_tasks, main
from zoo.task_help import UNDOCUMENTED


def our_tasks():
    """name → task class, for every @task class defined in one of our task modules."""
    load_tasks()
    modules = [importlib.import_module(ZOO_EXPERIMENTS)] + [
        importlib.import_module(e.value) for e in entry_points(group=TASK_ENTRY_POINTS)
    ]
    tasks = {}
    for module in modules:
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                cls.__module__ == module.__name__
                and hasattr(cls, "__component_fields__")
                and name in cli.commands
            ):
                tasks[name] = cls
    return tasks


TASKS = our_tasks()


def test_the_registry_holds_our_tasks():
    assert {
        "Convert",
        "Benchmark",
        "Profile",
        "ImportProfile",
        "DeviceBenchmark",
        "Charts",
        "LabDemo",
        "Leaderboard",
        "Quickstart",
        "TrainLabBNN",
    } <= set(TASKS)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_help_lists_every_field_with_its_default_and_meaning(name, capsys):
    assert main([name, "--help"]) == 0
    shown = capsys.readouterr().out
    for field in TASKS[name].__component_fields__:
        line = re.search(rf"^\s+{field} = (?P<default>\S.*?): (?P<meaning>.+)$", shown, re.M)
        assert line, f"`lqz {name} --help` does not list {field}:\n{shown}"
        assert UNDOCUMENTED not in line["meaning"], f"{name}.{field} has no meaning"
