"""Niblack local-threshold binarizer (Niblack 1986; used as a baseline in the LAB paper)."""

from lab_bnn.quantizers.base import register_binarizer
from lab_bnn.quantizers.local_statistics import LocalThresholdBinarizer, local_mean_std
from lab_bnn.registry import Card

import tensorflow as tf


@register_binarizer(
    "niblack",
    Card(
        paper="Niblack 1986; LAB paper baseline",
        role="activation",
        float_ops=frozenset({"ADD", "AVERAGE_POOL_2D", "MUL", "SQRT", "SUB"}),
        stays_float="the window statistics (average pools, square root) and the threshold",
    ),
)
class Niblack(LocalThresholdBinarizer):
    """sign(x − t) with the local threshold t = m + k·s over an n×n window.

    m and s are the per-channel window mean and std (see `local_mean_std`); clip-STE,
    with the gradient also flowing through t.

    Arguments:
        window_size: n, a positive odd integer.
        k: weight of the local std.
        epsilon: added to the variance before the square root.
        clip_value: clip-STE threshold.

    Example:
        >>> larq.layers.QuantConv2D(64, 3, input_quantizer="niblack")

    Raises:
        UserError: on a non-4-D input or an even or non-positive window.
    """

    def __init__(
        self, window_size: int = 3, k: float = -0.2, epsilon: float = 1e-5, clip_value: float = 1.0, **kwargs
    ):
        super().__init__(window_size, k, epsilon, clip_value, **kwargs)

    def threshold(self, inputs: tf.Tensor) -> tf.Tensor:
        mean, std = local_mean_std(inputs, self.window_size, self.epsilon)
        return mean + self.k * std
