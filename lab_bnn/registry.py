"""Alias registries for lab-bnn's Keras objects (binarizers, layers)."""

import re
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, List, Optional, Type, TypeVar

from lab_bnn.errors import UserError

import tensorflow as tf

T = TypeVar("T", bound=type)
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Card:
    """What a registered object is, for users and for the generated docs table.

    `binary_conv` and `float_ops` are claims about the LCE conversion of one
    QuantConv2D using it (in its `role`); a test converts and checks them.
    """

    paper: str
    role: str  # "activation" (input_quantizer), "weight" (kernel_quantizer) or "layer"
    learnable: str = "-"
    binary_conv: bool = True  # the conv converts to LceBconv2d
    float_ops: FrozenSet[str] = frozenset()  # other TFLite ops left in that graph
    stays_float: str = "-"  # in words: what is not binary after conversion, and why

    def __post_init__(self):
        if self.role not in ("activation", "weight", "layer"):
            raise UserError(f"Card role must be activation, weight or layer; received {self.role!r}")


class Registry:
    """Maps snake_case aliases to classes and makes both Keras-deserializable.

    Every class is put into Keras' global custom objects under its alias and its class
    name, so larq's `quantizers.get("alias")` and `tf.keras.models.load_model` find it
    without `custom_objects`. Registering an alias or class name twice is an error.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._classes: Dict[str, type] = {}
        self._cards: Dict[str, Optional[Card]] = {}

    def register(self, alias: str, card: Optional[Card] = None) -> Callable[[T], T]:
        """Class decorator registering `cls` under `alias`, described by `card`.

        Raises:
            UserError: if the alias is not snake_case or a name is already taken.
        """
        if not SNAKE_CASE.match(alias):
            raise UserError(f"{self.kind} alias must be snake_case, received {alias!r}")

        def decorator(cls: T) -> T:
            custom_objects = tf.keras.utils.get_custom_objects()
            for key in (alias, cls.__name__):
                taken = custom_objects.get(key)
                if taken is not None and not _same_class(taken, cls):
                    raise UserError(
                        f"cannot register {self.kind} {cls.__qualname__} as {key!r}: "
                        f"that name already belongs to {taken.__module__}."
                        f"{taken.__qualname__}; choose another alias"
                    )
            custom_objects[alias] = cls
            custom_objects[cls.__name__] = cls
            self._classes[alias] = cls
            self._cards[alias] = card
            return cls

        return decorator

    def available(self) -> List[str]:
        """Sorted aliases registered here."""
        return sorted(self._classes)

    def classes(self) -> Dict[str, Type]:
        """Alias → class, sorted by alias."""
        return dict(sorted(self._classes.items()))

    def card(self, alias: str) -> Optional[Card]:
        """The card registered with `alias` (None if it has none)."""
        self.lookup(alias)
        return self._cards[alias]

    def lookup(self, alias: str) -> type:
        """The class registered under `alias`.

        Raises:
            UserError: naming the alias and the registered ones.
        """
        if alias not in self._classes:
            raise UserError(f"unknown {self.kind} alias {alias!r}; registered: {', '.join(self.available())}")
        return self._classes[alias]


def _same_class(a: type, b: type) -> bool:
    # A re-imported module defines a new class object with the same identity.
    return a is b or (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)
