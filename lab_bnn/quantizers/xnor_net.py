"""XNOR-Net activations (Rastegari et al., ECCV 2016, arXiv 1603.05279)."""

from lab_bnn.quantizers.base import BinarizerBase, register_binarizer, require_rank_at_least_2
from lab_bnn.quantizers.scaled_sign import scaled_sign_ste
from lab_bnn.registry import Card

import tensorflow as tf


@register_binarizer(
    "xnor_activation",
    Card(
        paper="Rastegari et al., ECCV 2016, arXiv 1603.05279",
        role="activation",
        binary_conv=False,
        float_ops=frozenset({"ABS", "CONV_2D", "LceDequantize", "MEAN", "MUL"}),
        stays_float="the whole conv: α_x is computed per sample at run time, so the conv "
        "input is α_x·sign(x), not ±1, and LCE keeps a float CONV_2D",
    ),
)
class XnorActivation(BinarizerBase):
    """α_x·sign(x) with α_x = mean|x| per sample over all non-batch axes.

    α_x carries no gradient; the gradient is the clip-STE 1{|x| ≤ clip_value}
    (BiBench). Does not deploy as a binary conv: see its card.

    Arguments:
        clip_value: clip-STE threshold.

    Example:
        >>> larq.layers.QuantConv2D(64, 3, input_quantizer="xnor_activation",
        ...                         kernel_quantizer="scaled_sign")
    """

    precision = 1

    def __init__(self, clip_value: float = 1.0, **kwargs):
        self.clip_value = clip_value
        super().__init__(**kwargs)

    def build(self, input_shape):
        require_rank_at_least_2("XnorActivation", input_shape, "activations (batch, ..., channels)")
        super().build(input_shape)

    def call(self, inputs):
        axes = list(range(1, inputs.shape.rank))
        scale = tf.stop_gradient(tf.reduce_mean(tf.abs(inputs), axis=axes, keepdims=True))
        return super().call(scaled_sign_ste(inputs, scale, self.clip_value))

    def get_config(self):
        return {**super().get_config(), "clip_value": self.clip_value}
