"""Fashion-MNIST: the Debian package's IDX files, or TFDS when they are absent."""

from typing import Optional, Tuple

import tensorflow as tf
from zookeeper import Field, component

from zoo.datasets.base import DataNotFound, ZooDataset
from zoo.datasets.idx import load_fashion_mnist
from zoo.datasets.tfds_images import check_prepared, load_tfds

IDX_SPLIT = {"train": "train", "validation": "test"}


@component
class FashionMnist(ZooDataset):
    """Zalando's Fashion-MNIST (Xiao et al., 2017): 28×28 grey images, 10 classes.

    Reads the IDX files of Debian's `dataset-fashion-mnist` (or `data_dir`, or
    $LAB_BNN_FASHION_MNIST_DIR); without them, a prepared TFDS `fashion_mnist` in
    `tfds_data_dir`. Validation is the official test split.
    """

    data_dir: Optional[str] = Field(None)
    tfds_data_dir: Optional[str] = Field(None)
    augment: bool = Field(False)
    default_input_shape = (28, 28, 1)

    def load(self, split: str) -> Tuple[tf.data.Dataset, int]:
        try:
            images, labels = load_fashion_mnist(IDX_SPLIT[split], self.data_dir)
        except DataNotFound as idx_missing:
            try:
                root = check_prepared("fashion_mnist", self.tfds_data_dir, "FashionMnist")
            except DataNotFound as tfds_missing:
                raise DataNotFound(f"{idx_missing} Or: {tfds_missing}") from None
            return load_tfds("fashion_mnist", IDX_SPLIT[split], root, split == "train")
        # The arrays are the data source itself (47 MB at most), not a cache of it.
        return tf.data.Dataset.from_tensor_slices((images[..., None], labels)), len(labels)
