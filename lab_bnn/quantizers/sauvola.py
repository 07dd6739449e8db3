"""Sauvola local-threshold binarizer (Sauvola & Pietikäinen 2000; a LAB-paper baseline)."""

from lab_bnn.quantizers.base import register_binarizer
from lab_bnn.quantizers.local_statistics import LocalThresholdBinarizer, local_mean_std
from lab_bnn.registry import Card

import tensorflow as tf


@register_binarizer(
    "sauvola",
    Card(
        paper="Sauvola & Pietikäinen 2000; LAB paper baseline",
        role="activation",
        float_ops=frozenset({"ADD", "AVERAGE_POOL_2D", "DIV", "MUL", "REDUCE_MAX", "SQRT", "SUB"}),
        stays_float="the window statistics (average pools, square root) and the threshold",
    ),
)
class Sauvola(LocalThresholdBinarizer):
    """sign(x − t) with t = m·(1 + k·(s/R − 1)) over an n×n window.

    m, s: per-channel window mean and std; R: the largest s of each sample (over
    height, width and channels), so a sample's output does not depend on the rest of
    its batch. clip-STE, with the gradient also flowing through t (and R).

    Arguments:
        window_size: n, a positive odd integer.
        k: sensitivity to the local std.
        epsilon: added to the variance before the square root (also keeps R > 0).
        clip_value: clip-STE threshold.

    Example:
        >>> larq.layers.QuantConv2D(64, 3, input_quantizer="sauvola")

    Raises:
        UserError: on a non-4-D input or an even or non-positive window.
    """

    def __init__(
        self, window_size: int = 3, k: float = 0.5, epsilon: float = 1e-5, clip_value: float = 1.0, **kwargs
    ):
        super().__init__(window_size, k, epsilon, clip_value, **kwargs)

    def threshold(self, inputs: tf.Tensor) -> tf.Tensor:
        mean, std = local_mean_std(inputs, self.window_size, self.epsilon)
        dynamic_range = tf.reduce_max(std, axis=[1, 2, 3], keepdims=True)
        return mean * (1.0 + self.k * (std / dynamic_range - 1.0))
