"""Sauvola local-threshold binarizer (Sauvola & Pietikäinen 2000; a LAB-paper baseline)."""

import larq as lq
import tensorflow as tf

from lab_bnn.quantizers.base import (
    BinarizerBase,
    register_binarizer,
    require_nhwc,
    require_positive_int,
)
from lab_bnn.quantizers.local_statistics import local_mean_std


@register_binarizer("sauvola")
class Sauvola(BinarizerBase):
    """sign(x − t) with t = m·(1 + k·(s/R − 1)) over an n×n window.

    m, s: per-channel window mean and std; R: the largest s of each sample (over
    height, width and channels), so a sample's output does not depend on the rest of
    its batch. The sign uses larq's clip-STE; the gradient also flows through t.

    Arguments:
        window_size: n, a positive odd integer.
        k: sensitivity to the local std.
        epsilon: added to the variance before the square root (also keeps R > 0).
        clip_value: clip-STE threshold.

    Raises:
        ValueError: on a non-4-D input or an even or non-positive window.
    """

    precision = 1

    def __init__(
        self,
        window_size: int = 3,
        k: float = 0.5,
        epsilon: float = 1e-5,
        clip_value: float = 1.0,
        **kwargs,
    ):
        self.window_size = require_positive_int("Sauvola", "window_size", window_size, odd=True)
        self.k = float(k)
        self.epsilon = float(epsilon)
        self.clip_value = clip_value
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_nhwc("Sauvola", input_shape)
        super().build(input_shape)

    def threshold(self, inputs: tf.Tensor) -> tf.Tensor:
        mean, std = local_mean_std(inputs, self.window_size, self.epsilon)
        dynamic_range = tf.reduce_max(std, axis=[1, 2, 3], keepdims=True)
        return mean * (1.0 + self.k * (std / dynamic_range - 1.0))

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
