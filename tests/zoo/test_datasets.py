"""Fashion-MNIST from local IDX files: real data, synthetic files, clear errors."""

import gzip

import numpy as np
import pytest

from zoo.datasets import FASHION_MNIST_DIR_VARIABLE, load_fashion_mnist, read_idx


def write_idx(path, array, truncate=0):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    with gzip.open(path, "wb") as f:
        f.write(data[: len(data) - truncate])


def test_reads_what_was_written(tmp_path, rng):
    images = rng.randint(0, 256, (5, 28, 28))
    write_idx(tmp_path / "x.gz", images)
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), images)


def test_truncated_and_foreign_files_are_clear_errors(tmp_path, rng):
    write_idx(tmp_path / "short.gz", rng.randint(0, 256, (5, 4)), truncate=3)
    with pytest.raises(ValueError, match=r"truncated: header says \(5, 4\), found 17 bytes"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "foreign").write_bytes(b"PK\x03\x04zipfile")
    with pytest.raises(ValueError, match=r"not an unsigned-byte IDX file"):
        read_idx(tmp_path / "foreign")


def test_data_dir_from_environment(tmp_path, rng, monkeypatch):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.randint(0, 256, (3, 28, 28)))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([1, 2, 3]))
    monkeypatch.setenv(FASHION_MNIST_DIR_VARIABLE, str(tmp_path))
    images, labels = load_fashion_mnist("test")
    assert images.shape == (3, 28, 28) and labels.tolist() == [1, 2, 3]


def test_real_debian_fashion_mnist():
    images, labels = load_fashion_mnist("test")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1000] * 10


def test_missing_files_say_how_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"apt-get install dataset-fashion-mnist.*LAB_BNN_FASHION_MNIST_DIR"):
        load_fashion_mnist("train", str(tmp_path))


def test_unknown_split_is_rejected():
    with pytest.raises(ValueError, match=r"split must be one of \['test', 'train'\]; received 'valid'"):
        load_fashion_mnist("valid")
