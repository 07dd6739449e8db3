"""Windowed mean and standard deviation, the statistics of Niblack and Sauvola."""

from typing import Tuple

import tensorflow as tf


def local_mean_std(
    inputs: tf.Tensor, window_size: int, epsilon: float
) -> Tuple[tf.Tensor, tf.Tensor]:
    """Per-channel mean and std over an n×n window, stride 1.

    At the borders the window covers only the pixels inside the map (SAME average
    pooling counts valid pixels). std = sqrt(max(E[x²] − E[x]², 0) + epsilon); epsilon
    keeps the gradient finite on flat windows, which ReLU maps are full of.
    """
    pool = lambda t: tf.nn.avg_pool2d(t, window_size, strides=1, padding="SAME")  # noqa: E731
    mean = pool(inputs)
    variance = tf.maximum(pool(inputs * inputs) - mean * mean, 0.0)
    return mean, tf.sqrt(variance + epsilon)
