"""What every zoo dataset component provides to a training experiment."""

import abc
from typing import List, Optional, Tuple

from lab_bnn.errors import UserError

import tensorflow as tf
from zookeeper import Field

SPLITS = ("train", "validation")


class DataNotFound(UserError):
    """A dataset's files are absent; the message says how to provide them."""


class ZooDataset(abc.ABC):
    """Base of the zoo's dataset components (`dataset=Name` on `lqz Train*`).

    A subclass yields unbatched (image, label) pairs: images (H, W, C) uint8, labels
    int. Preprocessing (resize, channels, scaling, augmentation) is the experiment's.
    """

    # Use only the first N examples of a split (None: all); for quick runs and tests.
    train_examples: Optional[int] = Field(None)
    validation_examples: Optional[int] = Field(None)
    # Random crop and flip while training; off for digit/clothing datasets by default.
    augment: bool = Field(True)

    num_classes: int = 10
    # The input shape a model trains on by default, and whether images vary in size.
    default_input_shape: Tuple[int, int, int] = (224, 224, 3)

    @abc.abstractmethod
    def load(self, split: str) -> Tuple[tf.data.Dataset, int]:
        """The full split as (dataset, number of examples)."""

    def split(self, split: str) -> Tuple[tf.data.Dataset, int]:
        """`split` ("train" or "validation"), limited to the configured example count.

        Raises:
            UserError: for an unknown split or a non-positive example limit.
        """
        if split not in SPLITS:
            raise UserError(f"dataset split must be one of {list(SPLITS)}; received {split!r}")
        dataset, count = self.load(split)
        limit = self.train_examples if split == "train" else self.validation_examples
        if limit is not None:
            if limit <= 0:
                raise UserError(f"{split}_examples must be a positive integer; received {limit}")
            dataset, count = dataset.take(limit), min(limit, count)
        return dataset, count

    def __pre_configure__(self, conf):
        unknown = [key for key in conf if key.split(".")[0] not in self.__component_fields__]
        if unknown:
            raise UserError(
                f"unknown field {unknown[0]!r} for dataset {type(self).__name__}; its fields: "
                f"{', '.join(sorted(self.__component_fields__))}"
            )
        return conf


def dataset_names() -> List[str]:
    """Names of the zoo's concrete dataset components."""
    from zookeeper.core.utils import generate_component_subclasses

    return sorted(cls.__name__ for cls in generate_component_subclasses(ZooDataset))
