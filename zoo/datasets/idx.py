"""Fashion-MNIST from IDX files: the Debian package's format, read without TFDS."""

import gzip
import os
from pathlib import Path
from typing import Optional, Tuple

from lab_bnn.errors import UserError

import numpy as np

from zoo.datasets.base import DataNotFound

# Where Debian's `dataset-fashion-mnist` package installs the IDX files.
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_DIR_VARIABLE = "LAB_BNN_FASHION_MNIST_DIR"
IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def fashion_mnist_dir() -> Path:
    """$LAB_BNN_FASHION_MNIST_DIR if set, else the Debian package's folder."""
    return Path(os.environ.get(FASHION_MNIST_DIR_VARIABLE, DEBIAN_FASHION_MNIST_DIR))


def read_idx(path: Path) -> np.ndarray:
    """Read a (gzipped) IDX file of unsigned bytes into an array of its shape.

    Raises:
        UserError: if the file is not an unsigned-byte IDX file or is truncated.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 0x08:
        raise UserError(f"{path} is not an unsigned-byte IDX file (magic {data[:4]!r})")
    rank = data[3]
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(dims)):
        raise UserError(f"{path} is truncated: header says {dims}, found {body.size} bytes")
    return body.reshape(dims)


def load_fashion_mnist(split: str = "train", data_dir: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST images (N, 28, 28) uint8 and labels (N,) from local IDX files.

    Raises:
        UserError: for a split other than "train" or "test".
        DataNotFound: saying how to install the data when the files are absent.
    """
    if split not in IDX_FILES:
        raise UserError(f"Fashion-MNIST split must be one of {sorted(IDX_FILES)}; received {split!r}")
    folder = Path(data_dir) if data_dir else fashion_mnist_dir()
    paths = [folder / name for name in IDX_FILES[split]]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise DataNotFound(
            f"Fashion-MNIST IDX files not found: {', '.join(missing)}. Install them with "
            f"`sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or put the four "
            f"IDX .gz files in a folder and set {FASHION_MNIST_DIR_VARIABLE} to it."
        )
    return read_idx(paths[0]), read_idx(paths[1])
