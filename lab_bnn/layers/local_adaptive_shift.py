"""BoolNet's local adaptive shifting for the stem (Guo et al., arXiv 2106.06991)."""

from lab_bnn.layers.base import register_layer
from lab_bnn.layers.batch_norm_sign import BOOLNET_EPSILON, BOOLNET_MOMENTUM, require_batch_norm_arguments
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
        epsilon: of the three BatchNorms; default 1e-5 as BoolNet's code (PyTorch's
            default there; Keras' is 1e-3).
        momentum: of the three BatchNorms, in Keras' convention (the share of the old
            running statistics kept per step). Default 0.9: BoolNet's code uses
            PyTorch's momentum 0.1, the same update (Keras' default is 0.99).

    Raises:
        UserError: for momentum outside [0, 1) or a non-positive epsilon.

    Example:
        >>> LocalAdaptiveShift()  # BoolNet's ε = 1e-5, momentum 0.9 (PyTorch's 0.1)
        >>> LocalAdaptiveShift(epsilon=1e-3, momentum=0.99)  # Keras' defaults
    """

    def __init__(
        self,
        kernel_size: int = 3,
        epsilon: float = BOOLNET_EPSILON,
        momentum: float = BOOLNET_MOMENTUM,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.momentum, self.epsilon = require_batch_norm_arguments("LocalAdaptiveShift", momentum, epsilon)
        batch_norm = lambda: tf.keras.layers.BatchNormalization(  # noqa: E731
            momentum=self.momentum, epsilon=self.epsilon
        )
        self.bn_direct = batch_norm()
        self.bn_context = batch_norm()
        self.depthwise = tf.keras.layers.DepthwiseConv2D(kernel_size, padding="same", use_bias=False)
        self.bn_shift = batch_norm()

    def call(self, inputs, training=None):
        shift = self.bn_shift(self.depthwise(self.bn_context(inputs, training=training)), training=training)
        return self.bn_direct(inputs, training=training) + shift

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "epsilon": self.epsilon,
            "momentum": self.momentum,
        }
