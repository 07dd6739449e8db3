"""`lqz <Task> --help` that lists every field of a task with its default and meaning.

A task class says what its fields mean in a `field_help` dict (merged along its bases,
so a subclass documents only the fields it adds) and is registered with this module's
`task` instead of zookeeper's:

    @task
    class Benchmark:
        \"\"\"Host latency of a .tflite ...\"\"\"

        field_help = {"tflite": "the .tflite to time", "threads": "interpreter threads"}
        tflite: str = Field("")
        threads: int = Field(1)
"""

import inspect
from typing import Dict

from zookeeper import task as zookeeper_task
from zookeeper.core.cli import cli

UNDOCUMENTED = "(undocumented)"


def field_meanings(cls) -> Dict[str, str]:
    """The `field_help` dicts of `cls` and its bases, a subclass's entry winning."""
    meanings: Dict[str, str] = {}
    for base in reversed(inspect.getmro(cls)):
        meanings.update(vars(base).get("field_help", {}))
    return meanings


def format_default(field) -> str:
    """A field's default as it is typed on the command line (224,224,3, not a tuple)."""
    default = field._default  # zookeeper keeps a Field's default only in this attribute
    if callable(default):
        return "computed"
    if isinstance(default, (tuple, list)):
        return ",".join(map(str, default))
    return repr(default) if isinstance(default, str) else str(default)


def help_text(cls) -> str:
    """The task's docstring, then one `name = default: meaning` line per field."""
    meanings = field_meanings(cls)
    lines = [
        inspect.cleandoc(cls.__doc__ or cls.__name__),
        "",
        "\b",
        "Fields (key=value; name = default: meaning):",
    ]  # \b: click keeps lines
    for name, field in cls.__component_fields__.items():
        lines.append(f"  {name} = {format_default(field)}: {meanings.get(name, UNDOCUMENTED)}")
    return "\n".join(lines)


def task(cls):
    """zookeeper's @task, with `lqz <Task> --help` showing `help_text(cls)`."""
    cls = zookeeper_task(cls)
    cli.commands[cls.__name__].help = help_text(cls)
    return cls
