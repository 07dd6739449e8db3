"""What every zoo model factory shares: input/output Fields and per-stage LAB placement."""

from typing import List, Sequence

import tensorflow as tf
from zookeeper import Field


def build_model(factory_class, **fields) -> tf.keras.Model:
    """Build `factory_class` with the given Fields; a None value keeps the Field's
    default, and sequences become tuples (zookeeper's Field types)."""
    config = {name: tuple(value) if isinstance(value, (list, tuple)) else value
              for name, value in fields.items() if value is not None}
    return factory_class(**config).build()


class ZooModelFactory:
    """Base of the zoo's zookeeper factories (subclasses add `@factory` and `build`).

    `lab_blocks` has one flag per stage: True puts LAB where the stage binarizes its
    activations. Validation lives in `stage_binarizers`, the one place that reads it.
    """

    model_name = "model"
    stages = 4

    input_shape: Sequence[int] = Field((224, 224, 3))
    num_classes: int = Field(1000)
    include_top: bool = Field(True)
    lab_blocks: Sequence[bool] = Field(lambda self: (False,) * self.stages)

    def stage_binarizers(self, default: str) -> List[str]:
        """The activation binarizer alias of each stage: "lab" or `default`.

        Raises:
            ValueError: if lab_blocks does not have one boolean per stage.
        """
        flags = tuple(self.lab_blocks)
        if len(flags) != self.stages or not all(isinstance(f, bool) for f in flags):
            raise ValueError(
                f"lab_blocks has {len(flags)} entries {flags}, {self.model_name} has "
                f"{self.stages} stages: give one True/False per stage")
        return ["lab" if flag else default for flag in flags]

    def image_input(self) -> tf.Tensor:
        shape = tuple(self.input_shape)
        if len(shape) != 3 or not all(isinstance(d, int) and d > 0 for d in shape):
            raise ValueError(f"input_shape must be (height, width, channels) positive integers; "
                             f"received {shape}")
        return tf.keras.Input(shape)
