"""Niblack local-threshold binarizer (Niblack 1986; used as a baseline in the LAB paper)."""

import larq as lq
import tensorflow as tf

from lab_bnn.quantizers.base import (
    BinarizerBase,
    register_binarizer,
    require_nhwc,
    require_positive_int,
)
from lab_bnn.quantizers.local_statistics import local_mean_std


@register_binarizer("niblack")
class Niblack(BinarizerBase):
    """sign(x − t) with the local threshold t = m + k·s over an n×n window.

    m and s are the per-channel window mean and std (see `local_mean_std`). The sign
    uses larq's clip-STE; the gradient also flows through t.

    Arguments:
        window_size: n, a positive odd integer.
        k: weight of the local std.
        epsilon: added to the variance before the square root.
        clip_value: clip-STE threshold.

    Raises:
        ValueError: on a non-4-D input or an even or non-positive window.
    """

    precision = 1

    def __init__(
        self,
        window_size: int = 3,
        k: float = -0.2,
        epsilon: float = 1e-5,
        clip_value: float = 1.0,
        **kwargs,
    ):
        self.window_size = require_positive_int("Niblack", "window_size", window_size, odd=True)
        self.k = float(k)
        self.epsilon = float(epsilon)
        self.clip_value = clip_value
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_nhwc("Niblack", input_shape)
        super().build(input_shape)

    def threshold(self, inputs: tf.Tensor) -> tf.Tensor:
        mean, std = local_mean_std(inputs, self.window_size, self.epsilon)
        return mean + self.k * std

    def call(self, inputs):
        outputs = lq.quantizers.ste_sign(
            inputs - self.threshold(inputs), clip_value=self.clip_value
        )
        return super().call(outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "window_size": self.window_size,
            "k": self.k,
            "epsilon": self.epsilon,
            "clip_value": self.clip_value,
        }
