"""Images of any size and channel count → the model's input, batched for training."""

from typing import Optional, Sequence

from lab_bnn.errors import UserError

import tensorflow as tf

# Training crops from images scaled 1.14× the target (the 256 → 224 ImageNet convention).
CROP_MARGIN = 1.14


def _scale_shorter_side(image: tf.Tensor, size: int) -> tf.Tensor:
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = tf.cast(size, tf.float32) / tf.reduce_min(shape)
    new_shape = tf.cast(tf.math.ceil(shape * scale), tf.int32)
    return tf.image.resize(image, new_shape)


def preprocess(image: tf.Tensor, input_shape: Sequence[int], training: bool, augment: bool) -> tf.Tensor:
    """uint8 (H, W, C) → float32 `input_shape` in [−1, 1].

    Images of another size are scaled (shorter side) and cropped: randomly with a
    horizontal flip when training with `augment`, centrally otherwise. Grey images
    become RGB by repetition, RGB becomes grey by luminance, as the model needs.
    """
    height, width, channels = input_shape
    image = tf.cast(image, tf.float32) / 255.0
    if channels == 3 and image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    elif channels == 1 and image.shape[-1] == 3:
        image = tf.image.rgb_to_grayscale(image)
    if training and augment:
        size = int(round(CROP_MARGIN * max(height, width)))
        image = _scale_shorter_side(image, size)
        image = tf.image.random_crop(image, (height, width, channels))
        image = tf.image.random_flip_left_right(image)
    elif image.shape[0] != height or image.shape[1] != width:
        image = _scale_shorter_side(image, max(height, width))
        image = tf.image.resize_with_crop_or_pad(image, height, width)
    return image * 2.0 - 1.0


def check_channels(image_channels: Optional[int], channels: int) -> None:
    """Raises UserError unless images of `image_channels` (None: known only at run
    time) can become `channels`: the same count, or grey ↔ RGB."""
    if image_channels is None or channels == image_channels or {channels, image_channels} == {1, 3}:
        return
    allowed = "1 or 3 (grey and RGB are converted)" if image_channels in (1, 3) else image_channels
    raise UserError(
        f"input_shape has {channels} channels but the dataset's images have "
        f"{image_channels}; allowed: {allowed}"
    )


def batches(
    dataset: tf.data.Dataset,
    input_shape: Sequence[int],
    batch_size: int,
    training: bool,
    augment: bool,
    shuffle_buffer: int = 10_000,
    cache: bool = False,
    seed: int = 0,
) -> tf.data.Dataset:
    """Shuffled (training), preprocessed, batched and prefetched; cached in memory only
    when asked, since a full ImageNet does not fit.

    Raises:
        UserError: if the images' channels can be neither kept nor converted.
    """
    check_channels(dataset.element_spec[0].shape[-1], input_shape[2])
    if cache:
        dataset = dataset.cache()
    if training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.map(
        lambda image, label: (preprocess(image, input_shape, training, augment), label),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return dataset.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)
