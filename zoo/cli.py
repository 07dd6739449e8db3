"""`lqz`: lab-bnn's experiments plus larq-zoo's, run as `lqz TaskName key=value ...`.

A user's mistake (a `lab_bnn.errors.UserError`, an unknown task, a malformed, unknown,
missing or ill-typed key=value) prints one `lqz: error: ...` line and exits 2. Any other
exception is a bug in lab-bnn: its traceback, a hint to report it, exit 1.
`LQZ_DEBUG=1` also shows a user error's traceback. TensorFlow's log chatter is dropped
(zoo/quiet.py) unless `lqz --verbose ...` or `LQZ_DEBUG=1`. `lqz A key=value + B
key=value` runs tasks in turn in one process (one start-up), stopping at the first that
fails.
"""

import importlib
import os
import re
import sys
import traceback
from importlib.metadata import entry_points
from pathlib import Path
from typing import List, Optional, Sequence

from lab_bnn.errors import UserError

from zoo import quiet
from zoo.task_help import component_choices, format_default

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

BUG_HINT = "lqz: this is a bug in lab-bnn, not in your command; please report it with the traceback above"
USER_ERROR_STATUS = 2
BUG_STATUS = 1
INTERRUPTED_STATUS = 130
# `lqz A … + B …` runs task A, then task B, in one process.
CHAIN_SEPARATOR = "+"


def load_tasks() -> None:
    """Import every experiment module so its @task classes register with zookeeper,
    give every task without help text one that lists its fields, and make zookeeper
    report a bad key=value as a UserError. Calling it again changes nothing."""
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
    for command in cli.commands.values():
        cls = task_class(command)
        if not command.help and cls is not None:
            command.help = fields_help(cls)
    _report_configuration_mistakes_as_user_errors()


def fields_help(cls: type) -> str:
    """`lqz <Task> --help` for a task registered without one (larq-zoo's): its summary,
    then every field's default and type, in zoo.task_help's layout."""
    summary = (cls.__doc__ or cls.__name__).strip().splitlines()[0]
    lines = [summary, "", "\b", "Fields (key=value; name = default: type):"]
    for name, field in cls.__component_fields__.items():
        default = format_default(field) if field.has_default else "(required)"
        lines.append(f"  {name} = {default}: {_type_name(field.type)}")
    return "\n".join(lines)


def _type_name(annotation) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run `lqz` with `argv` (default: the command line); returns the exit status.

    Args:
        argv: the arguments after `lqz`, e.g. `["Quickstart", "epochs=1"]`.
            `--verbose` anywhere keeps TensorFlow's logs and warnings.
    Returns:
        0 on success, 2 for a user's mistake (one `lqz: error:` line on stderr),
        1 for a bug (traceback and hint), 130 when interrupted.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = quiet.verbose_requested(args)
    args = [arg for arg in args if arg != quiet.VERBOSE_FLAG]
    with quiet.python_chatter_silenced(enabled=not verbose):
        try:
            return _run(args)
        except UserError as error:
            if os.environ.get(quiet.DEBUG_VARIABLE):
                traceback.print_exc()
            print(f"lqz: error: {one_line(error)}", file=sys.stderr)
            return USER_ERROR_STATUS
        except KeyboardInterrupt:
            print("lqz: interrupted", file=sys.stderr)
            return INTERRUPTED_STATUS
        except Exception:  # noqa: BLE001  (everything else is a bug: say so, keep its traceback)
            traceback.print_exc()
            print(BUG_HINT, file=sys.stderr)
            return BUG_STATUS


def one_line(error: BaseException, first_paragraph: bool = False) -> str:
    """The message of `error` on one line: all of it (a device's output included), or
    only its first paragraph (zookeeper's go on with a multi-line example)."""
    message = str(error).strip()
    if first_paragraph:
        message = message.split("\n\n")[0]
    return " ".join(line.strip() for line in message.splitlines() if line.strip()) or type(error).__name__


def split_chain(args: List[str]) -> List[List[str]]:
    """`A x=1 + B y=2` → [[A, x=1], [B, y=2]]: tasks run in turn in one process.

    Raises:
        UserError: for an empty step (a leading, trailing or doubled `+`).
    """
    steps: List[List[str]] = [[]]
    for arg in args:
        if arg == CHAIN_SEPARATOR:
            steps.append([])
        else:
            steps[-1].append(arg)
    if len(steps) > 1 and not all(steps):
        raise UserError(
            f"'{CHAIN_SEPARATOR}' must stand between two tasks, as in "
            f"`lqz Convert run_dir=R + Benchmark tflite=R/model.tflite`; received "
            f"{' '.join(args)!r}"
        )
    return steps


def _run(args: List[str]) -> int:
    load_tasks()
    for step in split_chain(args):  # one start-up (TensorFlow, tasks) for every step
        status = _run_task(step)
        if status:
            return status
    return 0


def _run_task(args: List[str]) -> int:
    import click
    from zookeeper.core.cli import cli

    try:
        status = cli.main(args=args, prog_name="lqz", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:  # bare `lqz`: the task list
        error.show()
        return error.exit_code
    except click.exceptions.Abort as error:  # click's form of Ctrl-C
        raise KeyboardInterrupt from error
    except click.ClickException as error:  # no such task, a malformed key=value, ...
        raise UserError(f"{error.format_message()} (see `lqz --help`)") from error
    return status or 0


def task_class(command) -> Optional[type]:
    """The @task class behind a click command of zookeeper's `cli`, if it has one."""
    # zookeeper keeps a task's class only in the closure of its click callback.
    callback = command.callback
    cells = dict(zip(callback.__code__.co_freevars, callback.__closure__ or ()))
    return cells["cls"].cell_contents if "cls" in cells else None


def _report_configuration_mistakes_as_user_errors() -> None:
    """Make zookeeper's errors about the command line's key=value pairs UserErrors.

    zookeeper raises plain ValueError/TypeError both for a user's unknown, missing or
    ill-typed key and for its own misuse, and checks a value's type only when the task
    first reads it. Its task command calls `zookeeper.core.task.configure`; this swaps
    that one name for a version that also type-checks every value given on the command
    line before the task runs, and turns the errors zookeeper itself raises meanwhile
    into UserError. Errors raised by our own code (a default, a __post_configure__)
    pass through unchanged.
    """
    from zookeeper.core.component import configure

    # `import zookeeper.core.task` would give the decorator, which shadows the module.
    zookeeper_task = importlib.import_module("zookeeper.core.task")

    def configure_from_command_line(instance, conf, **kwargs):
        try:
            configure(instance, conf, **kwargs)
            _read_command_line_values(instance)
        except UserError:
            raise
        except Exception as error:  # noqa: BLE001  (sorted by where it was raised)
            if not _raised_by_zookeeper(error):
                raise
            raise UserError(_explain(error, instance)) from error

    zookeeper_task.configure = configure_from_command_line


def _read_command_line_values(component) -> None:
    """Read every field that takes a value from the command line, in the whole
    component tree, so that zookeeper type-checks them now."""
    from zookeeper.core.component import base_getattr
    from zookeeper.core.field import ComponentField
    from zookeeper.core.utils import is_component_instance

    for name, field in component.__component_fields__.items():
        if any(
            name in ancestor.__component_configured_field_values__
            for ancestor in _self_and_ancestors(component)
        ):
            value = base_getattr(component, name)
        elif isinstance(field, ComponentField):
            try:
                value = base_getattr(component, name)
            except AttributeError:  # an allow_missing component left unset
                continue
        else:
            continue
        if isinstance(field, ComponentField) and is_component_instance(value):
            _read_command_line_values(value)


def _self_and_ancestors(component):
    while component is not None:
        yield component
        component = component.__component_parent__


def _raised_by_zookeeper(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    zookeeper_dir = Path(sys.modules["zookeeper"].__file__).parent
    return bool(frames) and Path(frames[-1].filename).is_relative_to(zookeeper_dir)


UNKNOWN_KEY = re.compile(
    r"Key '(?P<key>[^']+)' does not correspond to any field of "
    r"component '(?P<component>[^']+)'"
)


WRONG_TYPE = re.compile(
    r"Field '(?P<field>[^']+)' of component '(?P<component>[^']+)' is "
    r"annotated with type '(?P<type>.+)', which is not satisfied by "
    r"value (?P<value>.+)\.$"
)


def _explain(error: BaseException, task) -> str:
    """zookeeper's message on one line; for an unknown key, with the allowed fields."""
    message = one_line(error, first_paragraph=True)
    wrong_type = WRONG_TYPE.search(message)
    if wrong_type is not None:
        expected = re.sub(r"<class '(?:[\w.]+\.)?(\w+)'>", r"\1", wrong_type["type"]).replace("typing.", "")
        choices = _component_choices(task, wrong_type["component"], wrong_type["field"])
        if choices:  # a component field set to a name that is none of its classes
            expected = f"one of {', '.join(choices)}"
        return (
            f"{wrong_type['component']}.{wrong_type['field']} must be {expected}; "
            f"received {wrong_type['value']}"
        )
    unknown = UNKNOWN_KEY.search(message)
    if unknown is None:
        return message
    component = _component_at(task, unknown["component"])
    if component is None:
        return message
    fields = ", ".join(sorted(component.__component_fields__))
    return (
        f"unknown key {unknown['key']!r} for {unknown['component']}; its fields: "
        f"{fields} (see `lqz {type(task).__name__} --help`)"
    )


def _component_at(task, path: str):
    """The component `path` names (`TrainBoolNet.optimizer.schedule`), or None."""
    from zookeeper.core.component import base_getattr

    component = task
    try:
        for name in path.split(".")[1:]:
            component = base_getattr(component, name)
    except Exception:  # noqa: BLE001  (the caller falls back to zookeeper's message)
        return None
    return component


def _component_choices(task, path: str, field: str) -> List[str]:
    """The component classes a component field takes by name ([] for other fields)."""
    from zookeeper.core.field import ComponentField

    component = _component_at(task, path)
    spec = None if component is None else component.__component_fields__.get(field)
    return component_choices(spec.type) if isinstance(spec, ComponentField) else []


if __name__ == "__main__":
    sys.exit(main())
