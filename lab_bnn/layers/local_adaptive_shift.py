"""BoolNet's local adaptive shifting for the stem (Guo et al., arXiv 2106.06991)."""

from lab_bnn.layers.base import register_layer
from lab_bnn.registry import Card

import tensorflow as tf


@register_layer(
    "local_adaptive_shift",
    Card(
        paper="BoolNet, Guo et al., arXiv 2106.06991",
        role="layer",
        learnable="depthwise 3×3 kernel, three BatchNorms",
        binary_conv=True,
        float_ops=frozenset({"ADD", "DEPTHWISE_CONV_2D", "MUL", "SIGN"}),
        stays_float="all of it: a float depthwise conv and BatchNorms on the stem's output",
    ),
)
class LocalAdaptiveShift(tf.keras.layers.Layer):
    """z = BN1(x) + BN3(depthwise3×3(BN2(x))): a learned per-pixel zero point for the
    multi-slice sign that follows (float, in the stem).

    Arguments:
        kernel_size: of the depthwise conv.
    """

    def __init__(self, kernel_size: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.bn_direct = tf.keras.layers.BatchNormalization()
        self.bn_context = tf.keras.layers.BatchNormalization()
        self.depthwise = tf.keras.layers.DepthwiseConv2D(kernel_size, padding="same", use_bias=False)
        self.bn_shift = tf.keras.layers.BatchNormalization()

    def call(self, inputs, training=None):
        shift = self.bn_shift(self.depthwise(self.bn_context(inputs, training=training)), training=training)
        return self.bn_direct(inputs, training=training) + shift

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}
