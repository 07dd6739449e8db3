"""Windowed mean and std, and the base of the local-threshold binarizers that use them."""

from typing import Tuple

from lab_bnn.quantizers.base import BinarizerBase, require_nhwc, require_positive_int

import larq as lq
import tensorflow as tf


def local_mean_std(inputs: tf.Tensor, window_size: int, epsilon: float) -> Tuple[tf.Tensor, tf.Tensor]:
    """Per-channel mean and std over an n×n window, stride 1.

    At the borders the window covers only the pixels inside the map (SAME average
    pooling counts valid pixels). std = sqrt(max(E[x²] − E[x]², 0) + epsilon); epsilon
    keeps the gradient finite on flat windows, which ReLU maps are full of.
    """
    pool = lambda t: tf.nn.avg_pool2d(t, window_size, strides=1, padding="SAME")  # noqa: E731
    mean = pool(inputs)
    variance = tf.maximum(pool(inputs * inputs) - mean * mean, 0.0)
    return mean, tf.sqrt(variance + epsilon)


class LocalThresholdBinarizer(BinarizerBase):
    """sign(x − t(x)) with a threshold from window statistics; clip-STE.

    Subclasses define `threshold(inputs)`. The gradient also flows through t.

    Arguments:
        window_size: n, a positive odd integer.
        k: the weight of the local std in the threshold.
        epsilon: added to the variance before the square root.
        clip_value: clip-STE threshold.

    Raises:
        UserError: on a non-4-D input or an even or non-positive window.
    """

    precision = 1

    def __init__(self, window_size: int, k: float, epsilon: float, clip_value: float, **kwargs):
        name = type(self).__name__
        self.window_size = require_positive_int(name, "window_size", window_size, odd=True)
        self.k = float(k)
        self.epsilon = float(epsilon)
        self.clip_value = clip_value
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_nhwc(type(self).__name__, input_shape)
        super().build(input_shape)

    def threshold(self, inputs: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def call(self, inputs):
        outputs = lq.quantizers.ste_sign(inputs - self.threshold(inputs), clip_value=self.clip_value)
        return super().call(outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "window_size": self.window_size,
            "k": self.k,
            "epsilon": self.epsilon,
            "clip_value": self.clip_value,
        }
