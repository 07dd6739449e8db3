"""What every zoo model shares: input/output Fields, per-stage LAB placement, and the
one place that validates a model's arguments."""

from typing import Dict, List, Optional, Sequence, Tuple

from lab_bnn import quantizers
from lab_bnn.errors import UserError

import numpy as np
import tensorflow as tf
from zookeeper import Field

# The fields a training task sets itself from its dataset (or that only larq-zoo's
# pretrained-weight loading reads): hidden from `--help` and refused as `model.<field>=`.
TASK_SET_FIELDS: Tuple[str, ...] = (
    "input_shape",
    "num_classes",
    "include_top",
    "dataset",
    "weights",
    "input_tensor",
)


def field_meanings(factory_class) -> Dict[str, str]:
    """The `field_help` dicts of `factory_class` and its bases merged, a subclass's
    entry winning over its bases'.

    Returns:
        field name → one-line meaning.
    """
    meanings: Dict[str, str] = {}
    for base in reversed(factory_class.__mro__):
        meanings.update(vars(base).get("field_help", {}))
    return meanings


def configurable_fields(factory_class) -> List[str]:
    """The Fields of a factory (zookeeper component) a user sets: all but TASK_SET_FIELDS,
    in declaration order."""
    return [name for name in factory_class.__component_fields__ if name not in TASK_SET_FIELDS]


def check_input_shape(model_name: str, input_shape, min_size: int = 1) -> Tuple[int, int, int]:
    """`input_shape` as (height, width, channels) of positive integers, each side at
    least `min_size` (the smallest map the model's pools and strides leave non-empty).

    Raises:
        UserError: naming the shape received, the minimum and how to get there.
    """
    shape = tuple(input_shape) if isinstance(input_shape, (list, tuple)) else (input_shape,)
    if len(shape) != 3 or not all(_is_int(d) and d > 0 for d in shape):
        raise UserError(
            f"input_shape must be (height, width, channels) positive integers; received {input_shape!r}"
        )
    shape = tuple(int(d) for d in shape)
    if min(shape[:2]) < min_size:
        side = 2 ** int(np.ceil(np.log2(max(min_size, *shape[:2]))))  # a power of two
        raise UserError(
            f"{model_name} needs inputs of at least {min_size}×{min_size} (height, width); "
            f"received input_shape {shape}. Give a larger one (lqz: input_shape={side},{side},"
            f"{shape[2]}; Python: input_shape=({side}, {side}, {shape[2]})) or use a dataset "
            f"of larger images"
        )
    return shape


def check_lab_blocks(model_name: str, lab_blocks, stages: int) -> Optional[Tuple[bool, ...]]:
    """`lab_blocks` as a tuple of one bool per stage, or None (the model's default).

    Only real booleans count: the string "False" is truthy and 0/1 could be meant as
    stage numbers, so both are refused rather than guessed at.

    Raises:
        UserError: naming the value, the model's stage count and what is allowed.
    """
    if lab_blocks is None:
        return None
    if isinstance(lab_blocks, (str, bytes)) or not isinstance(lab_blocks, Sequence):
        raise UserError(
            f"lab_blocks must be one True/False per stage ({stages} for "
            f"{model_name}); received {lab_blocks!r}"
        )
    flags = tuple(lab_blocks)
    not_bool = [flag for flag in flags if not isinstance(flag, (bool, np.bool_))]
    if not_bool:
        raise UserError(
            f"lab_blocks entries must be True or False; received {not_bool[0]!r} "
            f"({type(not_bool[0]).__name__}) in {flags}"
        )
    if len(flags) != stages:
        raise UserError(
            f"lab_blocks has {len(flags)} entries {flags}, {model_name} has "
            f"{stages} stages: give one True/False per stage"
        )
    return tuple(bool(flag) for flag in flags)


def check_num_classes(model_name: str, num_classes) -> int:
    """Raises UserError unless num_classes is a positive integer."""
    if not _is_int(num_classes) or num_classes < 1:
        raise UserError(f"{model_name} num_classes must be a positive integer; received {num_classes!r}")
    return int(num_classes)


def check_binarizer_alias(model_name: str, field: str, value):
    """`value` itself if it is not a string (None, or a quantizer object a keyword
    builder accepts) or an alias lab-bnn or larq knows.

    Raises:
        UserError: naming the model, the field, the alias and both alias lists.
    """
    if isinstance(value, str):
        try:
            quantizers.get(value)
        except UserError as error:
            raise UserError(f"{model_name} {field}: {error}") from None
    return value


def check_constraint_alias(model_name: str, field: str, value):
    """`value` itself if it is not a string or a constraint alias Keras resolves (larq
    registers weight_clip with it).

    Raises:
        UserError: naming the model, the field and the value.
    """
    if isinstance(value, str):
        try:
            tf.keras.constraints.get(value)
        except ValueError:
            raise UserError(
                f"{model_name} {field}: unknown constraint {value!r}; use a larq or Keras "
                "constraint alias (weight_clip, max_norm, non_neg, unit_norm, min_max_norm)"
            ) from None
    return value


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def build_model(factory_class, **fields) -> tf.keras.Model:
    """Build `factory_class` with the given Fields; a None value keeps the Field's
    default. The shared arguments are validated first, so a bad one is a UserError
    naming it rather than zookeeper's type error."""
    name = factory_class.model_name
    checks = {
        "input_shape": lambda v: check_input_shape(name, v, factory_class.min_input_size),
        "num_classes": lambda v: check_num_classes(name, v),
        "lab_blocks": lambda v: check_lab_blocks(name, v, factory_class.stages),
    }
    config = {
        key: checks[key](value) if key in checks else tuple(value) if isinstance(value, list) else value
        for key, value in fields.items()
        if value is not None
    }
    return factory_class(**config).build()


class ZooModelFactory:
    """Base of the zoo's zookeeper factories (subclasses add `@factory` and `build`).

    `lab_blocks` has one flag per stage: True puts LAB where the stage binarizes its
    activations. `min_input_size` is the smallest height and width the model builds
    at; `image_input` refuses smaller ones.
    """

    model_name = "model"
    stages = 4
    min_input_size = 1
    # One line per Field: what it means and the values allowed (`lqz <Task> --help`).
    # Merged along the MRO by `field_meanings`; TASK_SET_FIELDS need none.
    field_help: Dict[str, str] = {
        "lab_blocks": "one True/False per stage; True puts LAB (learnable activation "
        "binarizer) in place of the stage's activation binarizer",
    }

    input_shape: Sequence[int] = Field((224, 224, 3))
    num_classes: int = Field(1000)
    include_top: bool = Field(True)
    lab_blocks: Sequence[bool] = Field(lambda self: (False,) * self.stages)

    def __post_configure__(self):
        # A task configures its model before loading any data: refuse mistakes then.
        self.check_fields()

    def check_fields(self) -> None:
        """Check the fields a user sets that the model's layers would otherwise reject
        with Keras' error: every `*_quantizer` and `*_constraint` alias. Subclasses add
        their own checks and call this.

        Raises:
            UserError: naming the field, the value and what is allowed.
        """
        for name in self.__component_fields__:
            if name.endswith("_quantizer"):
                check_binarizer_alias(self.model_name, name, getattr(self, name))
            elif name.endswith("_constraint"):
                check_constraint_alias(self.model_name, name, getattr(self, name))

    def stage_binarizers(self, default: str) -> List[str]:
        """The activation binarizer alias of each stage: "lab" or `default`.

        Raises:
            UserError: if lab_blocks does not have one boolean per stage.
        """
        flags = check_lab_blocks(self.model_name, self.lab_blocks, self.stages)
        return ["lab" if flag else default for flag in flags]

    def image_input(self) -> tf.Tensor:
        """Raises UserError for a shape the model cannot take or a field `check_fields`
        refuses (every build starts here, configured or not)."""
        self.check_fields()
        check_num_classes(self.model_name, self.num_classes)
        return tf.keras.Input(check_input_shape(self.model_name, self.input_shape, self.min_input_size))
