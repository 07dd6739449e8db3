"""Datasets for zoo experiments, as zookeeper components (`dataset=Name`)."""

from zoo.datasets.base import DataNotFound, ZooDataset, dataset_names
from zoo.datasets.fashion_mnist import FashionMnist
from zoo.datasets.idx import (
    DEBIAN_FASHION_MNIST_DIR,
    FASHION_MNIST_DIR_VARIABLE,
    fashion_mnist_dir,
    load_fashion_mnist,
    read_idx,
)
from zoo.datasets.image_folder import ImageFolder
from zoo.datasets.synthetic import Synthetic
from zoo.datasets.tfds_images import Cifar10, ImageNet, Imagenette, Mnist, TfdsImages

__all__ = [
    "Cifar10",
    "DEBIAN_FASHION_MNIST_DIR",
    "DataNotFound",
    "FASHION_MNIST_DIR_VARIABLE",
    "FashionMnist",
    "ImageFolder",
    "ImageNet",
    "Imagenette",
    "Mnist",
    "Synthetic",
    "TfdsImages",
    "ZooDataset",
    "dataset_names",
    "fashion_mnist_dir",
    "load_fashion_mnist",
    "read_idx",
]
