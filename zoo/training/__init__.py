"""Training components: learning-rate schedules and optimizers (`optimizer=RAdam` on
`lqz Train*`), our RAdam, and the helpers they share.

The submodules are not imported here, so `import zoo.training.radam` stays light and
no import cycle can form; import what you need from `zoo.training.schedules`,
`zoo.training.optimizers` or `zoo.training.radam`.
"""

import math
from typing import Any, Callable, Type, TypeVar

from lab_bnn.errors import UserError

import tensorflow as tf

T = TypeVar("T", bound=Type)


def register_keras_object(cls: T) -> T:
    """Put `cls` into Keras' global custom objects under its class name, so
    `tf.keras.models.load_model` and `tf.keras.optimizers.deserialize` find it.

    Raises:
        UserError: if another class already holds that name.
    """
    custom_objects = tf.keras.utils.get_custom_objects()
    taken = custom_objects.get(cls.__name__)
    # A module imported twice (pytest's importlib mode) re-creates the same class.
    if taken is not None and (taken.__module__, taken.__qualname__) != (cls.__module__, cls.__qualname__):
        raise UserError(
            f"cannot register {cls.__module__}.{cls.__qualname__} as {cls.__name__!r}: "
            f"that name already belongs to {taken.__module__}.{taken.__qualname__}"
        )
    custom_objects[cls.__name__] = cls
    return cls


def component_path(component: Any) -> str:
    """How a user names `component` on the command line: its path below the task
    (`optimizer.rest`); "" for a component that is not inside another."""
    configured = getattr(component, "__component_name__", "")
    if getattr(component, "__component_parent__", None) is not None and "." in configured:
        return configured.split(".", 1)[1]  # drop the root's own name
    return ""


def field_path(component: Any, field: str) -> str:
    """`optimizer.rest.learning_rate`, or just `learning_rate` for a root component."""
    path = component_path(component)
    return f"{path}.{field}" if path else field


def choice(component: Any) -> str:
    """`optimizer.rest=RAdam`, or just `RAdam` for a root component."""
    path = component_path(component)
    return f"{path}={type(component).__name__}" if path else type(component).__name__


def require(component: Any, field: str, ok: Callable[[Any], bool], allowed: str) -> None:
    """Raise one UserError line naming the field and its value unless `ok(value)`.

    Args:
        component: the component whose field is checked.
        field: the field's name.
        ok: the test the value must pass (non-finite numbers always fail).
        allowed: what is allowed, e.g. "> 0" or "in [0, 1)".

    Raises:
        UserError: `optimizer.learning_rate must be > 0; received -1.0`.
    """
    value = getattr(component, field)
    finite = not isinstance(value, float) or math.isfinite(value)
    if not (finite and ok(value)):
        raise UserError(f"{field_path(component, field)} must be {allowed}; received {value!r}")


def describe(component: Any) -> Any:
    """A JSON-able record of a component and, recursively, its sub-components:
    `{"name": "RAdam", "learning_rate": 0.002, ..., "schedule": {"name": "CosineDecay", ...}}`.

    Args:
        component: a zookeeper component instance (any other value is returned
            JSON-able: tuples become lists).

    Returns:
        A dict for a component, else the value itself.
    """
    fields = getattr(type(component), "__component_fields__", None)
    if fields is None:
        if isinstance(component, (tuple, list)):
            return [describe(item) for item in component]
        return component
    return {"name": type(component).__name__, **{name: describe(getattr(component, name)) for name in fields}}
