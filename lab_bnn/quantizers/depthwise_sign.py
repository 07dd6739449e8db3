"""Depthwise-then-sign binarizer: LAB's deploy form, and a learnable binarizer itself."""

from lab_bnn.quantizers.base import (
    BinarizerBase,
    register_binarizer,
    require_nhwc,
    require_positive_int,
)
from lab_bnn.registry import Card

import larq as lq
import tensorflow as tf


@register_binarizer(
    "depthwise_sign",
    Card(
        paper="LAB's deploy form (Falkena et al., WACV 2023)",
        role="activation",
        learnable="depthwise kernel (k×k×C×1), bias",
        float_ops=frozenset({"DEPTHWISE_CONV_2D"}),
        stays_float="one depthwise k×k conv per binarized input",
    ),
)
class DepthwiseSign(BinarizerBase):
    """sign(depthwise_conv(x) + b) with one kernel per channel (multiplier 1).

    LCE converts it to one `DEPTHWISE_CONV_2D` and one `LceQuantize`. It is what
    `LAB.inference_form()` returns; trained on its own it uses larq's clip-STE.

    Arguments:
        kernel_size: spatial size of the depthwise kernel (SAME padding, stride 1).
        clip_value: clip-STE threshold of the sign's gradient.
        depthwise_initializer: initializer of the (k, k, C, 1) kernel.
        bias_initializer: initializer of the C biases.

    Raises:
        UserError: on a non-4-D input or a non-positive kernel size.
    """

    precision = 1

    def __init__(
        self,
        kernel_size: int = 3,
        clip_value: float = 1.0,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        self.kernel_size = require_positive_int("DepthwiseSign", "kernel_size", kernel_size)
        self.clip_value = clip_value
        self.depthwise_initializer = tf.keras.initializers.get(depthwise_initializer)
        self.bias_initializer = tf.keras.initializers.get(bias_initializer)
        super().__init__(**kwargs)

    def build(self, input_shape):
        channels = require_nhwc("DepthwiseSign", input_shape)
        k = self.kernel_size
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel",
            shape=(k, k, channels, 1),
            initializer=self.depthwise_initializer,
        )
        self.bias = self.add_weight("bias", shape=(channels,), initializer=self.bias_initializer)
        super().build(input_shape)

    def call(self, inputs):
        filtered = tf.nn.depthwise_conv2d(inputs, self.depthwise_kernel, strides=[1, 1, 1, 1], padding="SAME")
        outputs = lq.quantizers.ste_sign(filtered + self.bias, clip_value=self.clip_value)
        return super().call(outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "clip_value": self.clip_value,
            "depthwise_initializer": tf.keras.initializers.serialize(self.depthwise_initializer),
            "bias_initializer": tf.keras.initializers.serialize(self.bias_initializer),
        }
