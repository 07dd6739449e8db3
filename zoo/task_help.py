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

A component field named in `expand` is listed with its own fields below it, as they are
set on the command line (`model.k = 4: ...`, `optimizer.schedule = CosineDecay: ...`),
read from the field's default component without configuring anything.
"""

import inspect
from typing import Collection, Dict, List

from zookeeper import task as zookeeper_task
from zookeeper.core.cli import cli
from zookeeper.core.component import base_getattr
from zookeeper.core.field import ComponentField
from zookeeper.core.partial_component import PartialComponent
from zookeeper.core.utils import ConfigurationError, generate_component_subclasses, is_component_class

UNDOCUMENTED = "(undocumented)"
# A sub-component's field whose default comes from its parent (zookeeper's inheritance).
INHERITED = "inherited"


def field_meanings(cls) -> Dict[str, str]:
    """The `field_help` dicts of `cls` and its bases, a subclass's entry winning."""
    meanings: Dict[str, str] = {}
    for base in reversed(inspect.getmro(cls)):
        meanings.update(vars(base).get("field_help", {}))
    return meanings


def format_value(value) -> str:
    """A value as it is typed on the command line (224,224,3, not a tuple)."""
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    if is_component_class(value):
        return value.__name__
    if isinstance(value, PartialComponent):
        return value._component_class.__name__  # zookeeper exposes it no other way
    return repr(value) if isinstance(value, str) else str(value)


def format_default(field) -> str:
    """A field's default as it is typed on the command line; a component field's is
    its default component's class name."""
    default = field._default  # zookeeper keeps a Field's default only in this attribute
    if isinstance(field, ComponentField) and (
        is_component_class(default) or isinstance(default, PartialComponent)
    ):
        return format_value(default)
    if callable(default):
        return "computed"
    return format_value(default)


def component_name(cls) -> str:
    """How a component class is named on the command line (BoolNetFactory: BoolNet)."""
    return cls.__name__.removesuffix("Factory")


def component_choices(annotation) -> List[str]:
    """The component classes a field annotated `annotation` can be set to by name: the
    concrete leaves of its component subclasses (bases such as Optimizer left out)."""
    found = set(generate_component_subclasses(annotation))
    leaves = {c for c in found if not any(other is not c and issubclass(other, c) for other in found)}
    return sorted(c.__name__ for c in leaves)


def component_lines(path: str, component, meaning: str, hidden: Collection[str], indent: str) -> List[str]:
    """`path = Name: meaning[; choices: ...]`, then each field of `component` (an
    unconfigured instance) indented, sub-components recursively."""
    lines = [f"{indent}{path} = {component_name(type(component))}: {meaning}"]
    meanings = field_meanings(type(component))
    for name, field in type(component).__component_fields__.items():
        if name in hidden:
            continue
        try:
            value = base_getattr(component, name)  # `getattr` would build a factory
        except (AttributeError, ConfigurationError):
            value = None
            shown = INHERITED
        else:
            shown = None
        sub_meaning = meanings.get(name, UNDOCUMENTED)
        if isinstance(field, ComponentField) and value is not None:
            lines += component_lines(
                f"{path}.{name}", value, with_choices(sub_meaning, field), (), indent + "  "
            )
        else:
            lines.append(f"{indent}  {path}.{name} = {shown or format_value(value)}: {sub_meaning}")
    return lines


def with_choices(meaning: str, field) -> str:
    """`meaning`, with the component classes the field takes unless it names them."""
    choices = component_choices(field.type)
    if not choices or all(choice in meaning for choice in choices):
        return meaning
    return f"{meaning}; choices: {', '.join(choices)}"


def help_text(cls, expand: Collection[str] = (), hidden: Collection[str] = ()) -> str:
    """The task's docstring, then one `name = default: meaning` line per field; the
    component fields named in `expand` with their fields below them (except `hidden`)."""
    meanings = field_meanings(cls)
    lines = [
        inspect.cleandoc(cls.__doc__ or cls.__name__),
        "",
        "\b",
        "Fields (key=value; name = default: meaning):",
    ]  # \b: click keeps lines
    for name, field in cls.__component_fields__.items():
        meaning = meanings.get(name, UNDOCUMENTED)
        if name in expand and field.has_default:
            default = field._default()  # an unconfigured instance of the default component
            lines += component_lines(name, default, with_choices(meaning, field), hidden, "  ")
        else:
            lines.append(f"  {name} = {format_default(field)}: {meaning}")
    return "\n".join(lines)


def task(cls):
    """zookeeper's @task, with `lqz <Task> --help` showing the class's `help_text()`
    if it has one, else `help_text(cls)`."""
    cls = zookeeper_task(cls)
    own = getattr(cls, "help_text", None)
    cli.commands[cls.__name__].help = own() if callable(own) else help_text(cls)
    return cls
