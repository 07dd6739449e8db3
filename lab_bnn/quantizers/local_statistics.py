"""Windowed mean and std, and the base of the local-threshold binarizers that use them."""

from typing import Tuple

from lab_bnn.errors import UserError
from lab_bnn.quantizers.base import BinarizerBase, require_nhwc, require_positive_int

import larq as lq
import tensorflow as tf

DEVIATIONS = ("official", "window_std")


def local_mean_std(
    inputs: tf.Tensor, window_size: int, epsilon: float, deviation: str = "official"
) -> Tuple[tf.Tensor, tf.Tensor]:
    """Per-channel window mean m and local deviation s over an n×n window, stride 1.

    At the borders the window covers only the pixels inside the map (SAME average
    pooling counts valid pixels).

    - `"official"` (the LAB repository's code): s_p = sqrt(avg_{q∈W(p)} (x_q − m_q)² + ε),
      each pixel's deviation from its own window mean, averaged over the window.
    - `"window_std"` (the textbook window std): s = sqrt(max(avg(x²) − m², 0) + ε).

    epsilon keeps the gradient finite on flat windows, which ReLU maps are full of.
    """
    pool = lambda t: tf.nn.avg_pool2d(t, window_size, strides=1, padding="SAME")  # noqa: E731
    mean = pool(inputs)
    if deviation == "official":
        variance = pool(tf.square(inputs - mean))
    else:
        variance = tf.maximum(pool(inputs * inputs) - mean * mean, 0.0)
    return mean, tf.sqrt(variance + epsilon)


def require_deviation(binarizer: str, deviation) -> str:
    """Validate the `deviation` argument; raises UserError naming the value and the choices."""
    if deviation not in DEVIATIONS:
        raise UserError(f"{binarizer} deviation must be one of {DEVIATIONS}; received {deviation!r}")
    return deviation


class LocalThresholdBinarizer(BinarizerBase):
    """sign(x − t(x)) with a threshold from window statistics; clip-STE.

    Subclasses define `threshold(inputs)`. The gradient also flows through t.

    Arguments:
        window_size: n, a positive odd integer.
        k: the weight of the local std in the threshold.
        epsilon: added to the variance before the square root.
        clip_value: clip-STE threshold.
        deviation: `"official"` or `"window_std"` (see `local_mean_std`).

    Raises:
        UserError: on a non-4-D input, an even or non-positive window or an unknown
            deviation.
    """

    precision = 1

    def __init__(
        self, window_size: int, k: float, epsilon: float, clip_value: float, deviation: str, **kwargs
    ):
        name = type(self).__name__
        self.window_size = require_positive_int(name, "window_size", window_size, odd=True)
        self.deviation = require_deviation(name, deviation)
        self.k = float(k)
        self.epsilon = float(epsilon)
        self.clip_value = clip_value
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_nhwc(type(self).__name__, input_shape)
        super().build(input_shape)

    def threshold(self, inputs: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def local_mean_std(self, inputs: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
        return local_mean_std(inputs, self.window_size, self.epsilon, self.deviation)

    def difference(self, inputs: tf.Tensor) -> tf.Tensor:
        """x − t(x), the value whose sign is the output."""
        return inputs - self.threshold(inputs)

    def call(self, inputs):
        outputs = lq.quantizers.ste_sign(self.difference(inputs), clip_value=self.clip_value)
        return super().call(outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "window_size": self.window_size,
            "k": self.k,
            "epsilon": self.epsilon,
            "clip_value": self.clip_value,
            "deviation": self.deviation,
        }
