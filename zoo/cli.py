"""`lqz`: lab-bnn's experiments plus larq-zoo's, run as `lqz TaskName key=value ...`."""

import importlib
import os
import sys
from importlib.metadata import entry_points
from typing import Optional, Sequence

# larq-zoo's experiment modules; importing one registers its @task classes.
LARQ_ZOO_EXPERIMENTS = (
    "larq_zoo.training.basic_experiments",
    "larq_zoo.training.multi_stage_experiments",
    "larq_zoo.training.sota_experiments",
)
# Packages above zoo in the dependency flow add tasks through this entry-point group.
TASK_ENTRY_POINTS = "lab_bnn.tasks"


# Our experiments; where a name is also larq-zoo's (TrainBiRealNet, TrainQuickNet,
# TrainXNORNet) ours runs and larq-zoo's stays reachable as LarqZoo<Name>.
ZOO_EXPERIMENTS = "zoo.experiments.tasks"
SHADOWED_PREFIX = "LarqZoo"


def load_tasks() -> None:
    """Import every experiment module so its @task classes register with zookeeper."""
    from zookeeper.core.cli import cli

    importlib.import_module(ZOO_EXPERIMENTS)
    ours = dict(cli.commands)
    cli.commands.clear()  # zookeeper refuses a second task of the same name
    for module in LARQ_ZOO_EXPERIMENTS:
        importlib.import_module(module)
    for name in set(ours) & set(cli.commands):
        cli.add_command(cli.commands.pop(name), name=SHADOWED_PREFIX + name)
    cli.commands.update(ours)
    for entry_point in entry_points(group=TASK_ENTRY_POINTS):
        entry_point.load()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run `lqz`. A user mistake (ValueError, FileNotFoundError) or an unreachable or
    failing device (ConnectionError, ChildProcessError, TimeoutError) prints one line
    and exits 2; set LQZ_DEBUG=1 to see the traceback instead."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import click

    import lab_bnn  # noqa: F401  (selects legacy Keras before TensorFlow loads)
    from zookeeper import cli

    load_tasks()
    try:
        cli.main(args=argv, prog_name="lqz", standalone_mode=False)
    except (ValueError, FileNotFoundError, ConnectionError, ChildProcessError,
            TimeoutError) as error:  # ConnectionError etc.: a device out of reach
        if os.environ.get("LQZ_DEBUG"):
            raise
        print(f"lqz: error: {error}", file=sys.stderr)
        return 2
    except TypeError as error:
        # zookeeper's type check of a key=value ("Field 'x' of component 'T' is
        # annotated with type ..."): a user mistake; any other TypeError is a bug.
        if os.environ.get("LQZ_DEBUG") or not str(error).startswith("Field '"):
            raise
        print(f"lqz: error: {error}", file=sys.stderr)
        return 2
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
