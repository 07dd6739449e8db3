"""A local folder with one sub-folder of images per class."""

from pathlib import Path
from typing import List, Optional, Tuple

from lab_bnn.errors import UserError

import numpy as np
import tensorflow as tf
from zookeeper import Field, component

from zoo.datasets.base import DataNotFound, ZooDataset

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def list_images(root: Path) -> Tuple[List[str], List[int], List[str]]:
    """(file paths, label indices, class names) of root/<class>/<image>.

    Raises:
        DataNotFound: if root is not a folder.
        UserError: if no class folder holds an image.
    """
    if not root.is_dir():
        raise DataNotFound(f"ImageFolder path {str(root)!r} is not a folder")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir())
    paths, labels = [], []
    for label, name in enumerate(classes):
        for file in sorted((root / name).iterdir()):
            if file.suffix.lower() in IMAGE_EXTENSIONS:
                paths.append(str(file))
                labels.append(label)
    if not paths:
        raise UserError(
            f"ImageFolder path {str(root)!r} has no images: expected one sub-folder per class "
            f"holding {'/'.join(IMAGE_EXTENSIONS)} files (found class folders: {classes})"
        )
    return paths, labels, classes


def decode(path: tf.Tensor, label: tf.Tensor):
    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    return image, label


@component
class ImageFolder(ZooDataset):
    """Images in `path`/<class name>/*.jpg|png|…, class indices in sorted name order.

    Validation comes from `validation_path` (same layout) when given, else from a
    seeded `validation_fraction` of `path`. Images are decoded lazily per epoch.
    """

    path: str = Field()
    validation_path: Optional[str] = Field(None)
    validation_fraction: float = Field(0.1)
    seed: int = Field(0)

    @property
    def num_classes(self) -> int:
        return len(list_images(Path(self.path))[2])

    def files(self, split: str) -> Tuple[List[str], List[int]]:
        paths, labels, classes = list_images(Path(self.path))
        if self.validation_path:
            if split == "train":
                return paths, labels
            val_paths, val_labels, val_classes = list_images(Path(self.validation_path))
            if val_classes != classes:
                raise UserError(f"validation_path classes {val_classes} differ from path classes {classes}")
            return val_paths, val_labels
        if not 0 <= self.validation_fraction < 1:
            raise UserError(f"validation_fraction must be in [0, 1); received {self.validation_fraction}")
        order = np.random.RandomState(self.seed).permutation(len(paths))
        n_validation = int(round(self.validation_fraction * len(paths)))
        chosen = order[:n_validation] if split == "validation" else order[n_validation:]
        return [paths[i] for i in chosen], [labels[i] for i in chosen]

    def load(self, split: str) -> Tuple[tf.data.Dataset, int]:
        paths, labels = self.files(split)
        dataset = tf.data.Dataset.from_tensor_slices((paths, labels))
        return dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE), len(paths)
