"""Random images of any shape, for tests and smoke runs."""

from typing import Sequence, Tuple

import numpy as np
import tensorflow as tf
from zookeeper import Field, component

from zoo.datasets.base import ZooDataset


@component
class Synthetic(ZooDataset):
    """Seeded uniform-noise images whose brightness depends on the label, so a model
    can learn something; labels cycle through the classes."""

    input_shape: Sequence[int] = Field((32, 32, 3))
    num_classes: int = Field(10)
    train_examples: int = Field(256)
    validation_examples: int = Field(64)
    augment: bool = Field(False)
    seed: int = Field(0)

    @property
    def default_input_shape(self) -> Tuple[int, int, int]:
        return tuple(self.input_shape)

    def load(self, split: str) -> Tuple[tf.data.Dataset, int]:
        count = self.train_examples if split == "train" else self.validation_examples
        rng = np.random.RandomState(self.seed + (split == "validation"))
        labels = np.arange(count) % self.num_classes
        noise = rng.randint(0, 128, (count, *self.default_input_shape))
        shift = (labels * 127 // max(self.num_classes - 1, 1)).reshape(-1, 1, 1, 1)
        images = (noise + shift).astype(np.uint8)
        return tf.data.Dataset.from_tensor_slices((images, labels)), count
