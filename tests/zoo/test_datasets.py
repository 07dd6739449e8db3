"""Fashion-MNIST from local IDX files: real data, synthetic files, clear errors."""

import gzip

from lab_bnn.errors import UserError

import numpy as np
import pytest

from zoo.datasets import (
    FASHION_MNIST_DIR_VARIABLE,
    DataNotFound,
    load_fashion_mnist,
    read_idx,
)


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
    with pytest.raises(UserError, match=r"truncated: header says \(5, 4\), found 17 bytes"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "foreign").write_bytes(b"PK\x03\x04zipfile")
    with pytest.raises(UserError, match=r"not an unsigned-byte IDX file"):
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
    with pytest.raises(
        DataNotFound, match=r"apt-get install dataset-fashion-mnist.*LAB_BNN_FASHION_MNIST_DIR"
    ):
        load_fashion_mnist("train", str(tmp_path))


def test_unknown_split_is_rejected():
    with pytest.raises(UserError, match=r"split must be one of \['test', 'train'\]; received 'valid'"):
        load_fashion_mnist("valid")


# -- the zookeeper dataset components ------------------------------------------------

from zookeeper import configure  # noqa: E402

from zoo.datasets import Cifar10, FashionMnist, ImageFolder, Synthetic, dataset_names  # noqa: E402


def configured(component_class, **fields):
    component = component_class()
    configure(component, fields)
    return component


def as_arrays(dataset):
    images, labels = zip(*[(i.numpy(), l.numpy()) for i, l in dataset])
    return np.stack(images), np.array(labels)


def test_component_names_are_the_documented_ones():
    assert dataset_names() == [
        "Cifar10",
        "FashionMnist",
        "ImageFolder",
        "ImageNet",
        "Imagenette",
        "Mnist",
        "Synthetic",
    ]


def test_fashion_mnist_component_reads_the_idx_files_with_a_limit():
    dataset, count = configured(FashionMnist, validation_examples=50).split("validation")
    images, labels = as_arrays(dataset)
    reference_images, reference_labels = load_fashion_mnist("test")
    assert count == 50 and images.shape == (50, 28, 28, 1)
    np.testing.assert_array_equal(images[..., 0], reference_images[:50])
    np.testing.assert_array_equal(labels, reference_labels[:50])


def test_fashion_mnist_without_idx_or_tfds_names_both_ways_to_provide_it(tmp_path):
    component = configured(FashionMnist, data_dir=str(tmp_path), tfds_data_dir=str(tmp_path))
    with pytest.raises(
        DataNotFound,
        match=r"apt-get install dataset-fashion-mnist.*"
        r"Or: FashionMnist \(TFDS 'fashion_mnist'\) is not "
        r"prepared.*tfds build fashion_mnist",
    ):
        component.split("train")


def test_synthetic_is_seeded_and_shaped():
    first, count = configured(Synthetic, input_shape=(8, 6, 2), train_examples=12).split("train")
    second, _ = configured(Synthetic, input_shape=(8, 6, 2), train_examples=12).split("train")
    (images, labels), (again, _) = as_arrays(first), as_arrays(second)
    assert count == 12 and images.shape == (12, 8, 6, 2) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, again)
    assert labels.tolist() == [i % 10 for i in range(12)]


def write_png(path, rng, shape=(9, 7, 3)):
    import tensorflow as tf

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tf.io.encode_png(rng.randint(0, 256, shape).astype(np.uint8)).numpy())


def test_image_folder_labels_by_sorted_class_and_holds_out_validation(tmp_path, rng):
    for name, n in (("cat", 6), ("dog", 4)):
        for i in range(n):
            write_png(tmp_path / name / f"{i}.png", rng)
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    folder = configured(ImageFolder, path=str(tmp_path), validation_fraction=0.2)
    train, n_train = folder.split("train")
    validation, n_validation = folder.split("validation")
    train_images, train_labels = as_arrays(train)
    _, validation_labels = as_arrays(validation)
    assert (n_train, n_validation) == (8, 2) and folder.num_classes == 2
    assert train_images.shape == (8, 9, 7, 3)
    assert sorted(train_labels.tolist() + validation_labels.tolist()) == [0] * 6 + [1] * 4


def test_image_folder_without_images_is_one_clear_error(tmp_path):
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(
        UserError,
        match=r"has no images: expected one sub-folder per class "
        r"holding .jpg/.jpeg/.png/.bmp/.gif files \(found class "
        r"folders: \['empty_class'\]\)",
    ):
        configured(ImageFolder, path=str(tmp_path)).split("train")
    with pytest.raises(DataNotFound, match=r"ImageFolder path '.*nowhere' is not a folder"):
        configured(ImageFolder, path=str(tmp_path / "nowhere")).split("train")


def test_tfds_component_reads_a_prepared_dataset_offline(tmp_path, rng):
    """A real TFDS dataset prepared in tmp_path (a tiny builder, no download) loads
    through the Cifar10 component pointed at it."""
    import tensorflow_datasets as tfds

    images = rng.randint(0, 256, (6, 4, 4, 3)).astype(np.uint8)

    class TinyLabBnnImages(tfds.core.GeneratorBasedBuilder):
        __module__ = "tiny_builder"  # TFDS cannot resolve resources of a namespace-package test
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(
                builder=self,
                supervised_keys=("image", "label"),
                features=tfds.features.FeaturesDict(
                    {
                        "image": tfds.features.Image(shape=(4, 4, 3)),
                        "label": tfds.features.ClassLabel(num_classes=3),
                    }
                ),
            )

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(range(4)), "test": self._generate_examples(range(4, 6))}

        def _generate_examples(self, indices):
            for i in indices:
                yield i, {"image": images[i], "label": i % 3}

    TinyLabBnnImages(data_dir=str(tmp_path)).download_and_prepare()
    component = configured(Cifar10, name="tiny_lab_bnn_images", data_dir=str(tmp_path))
    dataset, count = component.split("validation")
    loaded, labels = as_arrays(dataset)
    assert count == 2
    np.testing.assert_array_equal(loaded, images[4:])
    assert labels.tolist() == [4 % 3, 5 % 3]


def test_unprepared_tfds_dataset_says_how_to_prepare_it(tmp_path):
    with pytest.raises(
        DataNotFound,
        match=r"Cifar10 \(TFDS 'cifar10'\) is not prepared in "
        r".*tfds build cifar10 --data_dir DIR",
    ):
        configured(Cifar10, data_dir=str(tmp_path)).split("train")


def test_unknown_dataset_field_is_one_clear_error():
    with pytest.raises(
        UserError,
        match=r"unknown field 'folder' for dataset ImageFolder; its "
        r"fields: augment, path, seed",
    ):
        configured(ImageFolder, folder="x")
