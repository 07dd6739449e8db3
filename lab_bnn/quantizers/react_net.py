"""ReActNet's RSign (Liu et al., ECCV 2020, arXiv 2003.03488)."""

from lab_bnn.quantizers.base import BinarizerBase, register_binarizer, require_rank_at_least_2
from lab_bnn.registry import Card

import larq as lq
import tensorflow as tf


@register_binarizer(
    "rsign",
    Card(
        paper="Liu et al., ECCV 2020, arXiv 2003.03488",
        role="activation",
        learnable="per-channel threshold τ",
        float_ops=frozenset({"ADD"}),
        stays_float="one per-channel ADD of τ before the sign",
    ),
)
class RSign(BinarizerBase):
    """sign(x + τ_c) with a learnable per-channel threshold τ (init 0) and the
    ApproxSign gradient 2 − 2|x + τ| for |x + τ| < 1 (to x and τ).

    Arguments:
        threshold_initializer: initializer of τ.

    Example:
        >>> larq.layers.QuantConv2D(64, 3, input_quantizer="rsign",
        ...                         kernel_quantizer="scaled_sign")
    """

    precision = 1

    def __init__(self, threshold_initializer="zeros", **kwargs):
        self.threshold_initializer = tf.keras.initializers.get(threshold_initializer)
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_rank_at_least_2("RSign", input_shape, "activations (batch, ..., channels)")
        channels = tf.TensorShape(input_shape)[-1]
        self.threshold = self.add_weight(
            "threshold", shape=(channels,), initializer=self.threshold_initializer
        )
        super().build(input_shape)

    def call(self, inputs):
        return super().call(lq.quantizers.approx_sign(inputs + self.threshold))

    def get_config(self):
        return {
            **super().get_config(),
            "threshold_initializer": tf.keras.initializers.serialize(self.threshold_initializer),
        }
