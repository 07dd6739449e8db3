"""Niblack local-threshold binarizer (Niblack 1986; used as a baseline in the LAB paper)."""

from lab_bnn.quantizers.base import register_binarizer
from lab_bnn.quantizers.local_statistics import LocalThresholdBinarizer
from lab_bnn.registry import Card

import tensorflow as tf


@register_binarizer(
    "niblack",
    Card(
        paper="Niblack 1986; LAB paper baseline, deviation as the LAB code computes it",
        role="activation",
        float_ops=frozenset({"ADD", "AVERAGE_POOL_2D", "MUL", "SQRT", "SQUARED_DIFFERENCE", "SUB"}),
        stays_float="the window statistics (average pools, squares, square root) and the threshold",
    ),
)
class Niblack(LocalThresholdBinarizer):
    """sign(x − t) with the local threshold t = m + k·s over an n×n window.

    m and s are the per-channel window mean and local deviation (see
    `local_mean_std`); clip-STE, with the gradient also flowing through t.

    Arguments:
        window_size: n, a positive odd integer.
        k: weight of the local deviation.
        epsilon: added to the variance before the square root (the LAB code's 1e-9).
        clip_value: clip-STE threshold.
        deviation: `"official"` (default): s = sqrt(avg((x − avg(x))²) + ε), each pixel's
            deviation from its own window mean, as the LAB repository computes it and
            as the LAB paper's Niblack baseline was trained. `"window_std"`: the
            textbook window std sqrt(avg(x²) − avg(x)² + ε), lab_bnn's behaviour before
            (then with epsilon=1e-5). The default follows the code the paper's numbers
            came from.

    Example:
        >>> larq.layers.QuantConv2D(64, 3, input_quantizer="niblack")
        >>> Niblack(deviation="window_std", epsilon=1e-5)  # the textbook window std

    Raises:
        UserError: on a non-4-D input, an even or non-positive window or an unknown
            deviation.
    """

    def __init__(
        self,
        window_size: int = 3,
        k: float = -0.2,
        epsilon: float = 1e-9,
        clip_value: float = 1.0,
        deviation: str = "official",
        **kwargs,
    ):
        super().__init__(window_size, k, epsilon, clip_value, deviation, **kwargs)

    def threshold(self, inputs: tf.Tensor) -> tf.Tensor:
        mean, std = self.local_mean_std(inputs)
        return mean + self.k * std
