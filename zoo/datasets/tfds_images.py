"""TFDS image classification sets as zoo datasets, usable offline once prepared."""

import glob
import os
from pathlib import Path
from typing import Optional, Tuple

import tensorflow as tf
from zookeeper import Field, component

from zoo.datasets.base import DataNotFound, ZooDataset


def tfds_data_dir(data_dir: Optional[str]) -> Path:
    """`data_dir`, else $TFDS_DATA_DIR, else TFDS's default ~/tensorflow_datasets."""
    return Path(data_dir or os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")).expanduser()


def check_prepared(name: str, data_dir: Optional[str], label: str) -> Path:
    """The folder holding the prepared TFDS dataset `name`.

    Raises:
        DataNotFound: saying how to prepare the data, when it is absent. Checking
            the files first keeps TFDS from trying the network when offline.
    """
    root = tfds_data_dir(data_dir)
    bare_name = name.split(":")[0]
    if glob.glob(str(root / bare_name / "**" / "dataset_info.json"), recursive=True):
        return root
    raise DataNotFound(
        f"{label} (TFDS {bare_name!r}) is not prepared in {root}. On a machine with internet "
        f"run `tfds build {bare_name} --data_dir DIR`, copy DIR here and pass "
        f"dataset.data_dir=DIR (or set dataset.download=True where downloading is allowed)"
    )


def load_tfds(
    name: str, split: str, root: Path, shuffle_files: bool, download: bool = False
) -> Tuple[tf.data.Dataset, int]:
    """(image, label) pairs of a TFDS split, and its size."""
    import tensorflow_datasets as tfds  # slow to import; only when a TFDS set is used

    builder = tfds.builder(name, data_dir=str(root))
    if download:
        builder.download_and_prepare()
    dataset = builder.as_dataset(split=split, as_supervised=True, shuffle_files=shuffle_files)
    return dataset, builder.info.splits[split].num_examples


class TfdsImages(ZooDataset):
    """A TFDS dataset with (image, label) features, read from `data_dir` and never
    downloaded unless `download=True`."""

    name: str = Field()
    data_dir: Optional[str] = Field(None)
    download: bool = Field(False)
    train_split: str = Field("train")
    validation_split: str = Field("test")

    def load(self, split: str) -> Tuple[tf.data.Dataset, int]:
        if self.download:
            root = tfds_data_dir(self.data_dir)
        else:
            root = check_prepared(self.name, self.data_dir, type(self).__name__)
        tfds_split = self.train_split if split == "train" else self.validation_split
        return load_tfds(self.name, tfds_split, root, split == "train", self.download)


@component
class Imagenette(TfdsImages):
    """Imagenette (10 ImageNet classes, fast.ai), 320 px version."""

    name: str = Field("imagenette/320px-v2")
    validation_split: str = Field("validation")


@component
class ImageNet(TfdsImages):
    """ILSVRC 2012; TFDS needs the manually downloaded archives to prepare it."""

    name: str = Field("imagenet2012")
    validation_split: str = Field("validation")
    num_classes = 1000


@component
class Cifar10(TfdsImages):
    name: str = Field("cifar10")
    default_input_shape = (32, 32, 3)


@component
class Mnist(TfdsImages):
    name: str = Field("mnist")
    augment: bool = Field(False)
    default_input_shape = (28, 28, 1)
