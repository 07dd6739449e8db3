"""Preprocessing against NumPy: scaling to [−1, 1], channel changes, crops."""

from lab_bnn.errors import UserError

import numpy as np
import pytest
import tensorflow as tf

from zoo.preprocessing import batches, preprocess


def test_same_size_image_is_only_rescaled(rng):
    image = rng.randint(0, 256, (5, 6, 1)).astype(np.uint8)
    out = preprocess(tf.constant(image), (5, 6, 1), training=False, augment=False).numpy()
    np.testing.assert_allclose(out, image / 255.0 * 2 - 1, atol=1e-6)


def test_grey_becomes_rgb_and_rgb_becomes_grey(rng):
    grey = rng.randint(0, 256, (4, 4, 1)).astype(np.uint8)
    rgb = preprocess(tf.constant(grey), (4, 4, 3), training=False, augment=False).numpy()
    np.testing.assert_allclose(rgb, np.repeat(grey / 255.0 * 2 - 1, 3, axis=-1), atol=1e-6)
    colour = rng.randint(0, 256, (4, 4, 3)).astype(np.uint8)
    back = preprocess(tf.constant(colour), (4, 4, 1), training=False, augment=False).numpy()
    luminance = colour.astype(np.float64) @ [0.2989, 0.5870, 0.1140] / 255.0
    np.testing.assert_allclose(back[..., 0], luminance * 2 - 1, atol=2e-3)


def test_other_sizes_are_scaled_and_centre_cropped_or_randomly_cropped(rng):
    image = np.full((40, 60, 3), 255, np.uint8)
    centre = preprocess(tf.constant(image), (20, 20, 3), training=False, augment=False)
    assert centre.shape == (20, 20, 3)
    np.testing.assert_allclose(centre.numpy(), 1.0, atol=1e-5)
    crop = preprocess(tf.constant(image), (20, 20, 3), training=True, augment=True)
    assert crop.shape == (20, 20, 3)


def test_training_batches_drop_the_remainder_and_validation_keeps_it(rng):
    data = tf.data.Dataset.from_tensor_slices(
        (rng.randint(0, 256, (10, 4, 4, 1)).astype(np.uint8), np.arange(10))
    )
    train = list(batches(data, (4, 4, 1), 4, training=True, augment=False))
    validation = list(batches(data, (4, 4, 1), 4, training=False, augment=False))
    assert [len(labels) for _, labels in train] == [4, 4]
    assert [len(labels) for _, labels in validation] == [4, 4, 2]
    assert sorted(np.concatenate([l.numpy() for _, l in validation]).tolist()) == list(range(10))


@pytest.mark.parametrize("image_channels,channels", [(1, 2), (3, 2), (2, 3), (4, 1)])
def test_channels_that_cannot_be_converted_are_a_user_error(rng, image_channels, channels):
    data = tf.data.Dataset.from_tensor_slices(
        (rng.randint(0, 256, (4, 4, 4, image_channels)).astype(np.uint8), np.arange(4))
    )
    with pytest.raises(
        UserError,
        match=rf"input_shape has {channels} channels but the "
        rf"dataset's images have {image_channels}",
    ):
        batches(data, (4, 4, channels), 2, training=False, augment=False)
