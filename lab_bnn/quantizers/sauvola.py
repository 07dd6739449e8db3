"""Sauvola local-threshold binarizer (Sauvola & Pietikäinen 2000; a LAB-paper baseline)."""

from lab_bnn.errors import UserError
from lab_bnn.quantizers.base import register_binarizer
from lab_bnn.quantizers.local_statistics import LocalThresholdBinarizer
from lab_bnn.registry import Card

import tensorflow as tf

DYNAMIC_RANGES = ("batch", "sample")


@register_binarizer(
    "sauvola",
    Card(
        paper="Sauvola & Pietikäinen 2000; LAB paper baseline, deviation and R as the LAB code computes them",
        role="activation",
        float_ops=frozenset(
            {"ADD", "AVERAGE_POOL_2D", "DIV", "MUL", "REDUCE_MAX", "SQRT", "SQUARED_DIFFERENCE", "SUB"}
        ),
        stays_float="the window statistics (average pools, squares, square root) and the threshold",
    ),
)
class Sauvola(LocalThresholdBinarizer):
    """sign(x − t) with t = m·(1 + k·(s/R − 1)) over an n×n window.

    m, s: per-channel window mean and local deviation (see `local_mean_std`); R: the
    largest s (see `dynamic_range`). clip-STE, with the gradient also flowing through
    t (and R).

    Arguments:
        window_size: n, a positive odd integer.
        k: sensitivity to the local deviation.
        epsilon: added to the variance before the square root (the LAB code's 1e-9);
            with `"official"` also added to R, as the LAB code does.
        clip_value: clip-STE threshold.
        deviation: `"official"` (default): s = sqrt(avg((x − avg(x))²) + ε), each pixel's
            deviation from its own window mean, as the LAB repository computes it and
            as the LAB paper's Sauvola baseline was trained. `"window_std"`: the
            textbook window std sqrt(avg(x²) − avg(x)² + ε) and t uses R itself,
            lab_bnn's behaviour before (then with epsilon=1e-5). The default follows
            the code the paper's numbers came from.
        dynamic_range: where R is the largest s. `"batch"` (default): over the whole
            batch, as the LAB code does, so a sample's output depends on the rest of
            its batch; at batch 1 (as LCE runs a model) it equals `"sample"`.
            `"sample"`: over each sample's height, width and channels, so every sample
            is binarized independently of its batch (lab_bnn's behaviour before).

    Example:
        >>> larq.layers.QuantConv2D(64, 3, input_quantizer="sauvola")
        >>> Sauvola(deviation="window_std", epsilon=1e-5)  # the textbook window std
        >>> Sauvola(dynamic_range="sample")  # independent of the batch

    Raises:
        UserError: on a non-4-D input, an even or non-positive window, an unknown
            deviation or an unknown dynamic range.
    """

    def __init__(
        self,
        window_size: int = 3,
        k: float = 0.5,
        epsilon: float = 1e-9,
        clip_value: float = 1.0,
        deviation: str = "official",
        dynamic_range: str = "batch",
        **kwargs,
    ):
        if dynamic_range not in DYNAMIC_RANGES:
            raise UserError(
                f"Sauvola dynamic_range must be one of {DYNAMIC_RANGES}; received {dynamic_range!r}"
            )
        self.dynamic_range = dynamic_range
        super().__init__(window_size, k, epsilon, clip_value, deviation, **kwargs)

    def threshold(self, inputs: tf.Tensor) -> tf.Tensor:
        mean, std = self.local_mean_std(inputs)
        axes = [0, 1, 2, 3] if self.dynamic_range == "batch" else [1, 2, 3]
        dynamic_range = tf.reduce_max(std, axis=axes, keepdims=True)
        if self.deviation == "official":
            dynamic_range = dynamic_range + self.epsilon
        return mean * (1.0 + self.k * (std / dynamic_range - 1.0))

    def get_config(self):
        return {**super().get_config(), "dynamic_range": self.dynamic_range}
