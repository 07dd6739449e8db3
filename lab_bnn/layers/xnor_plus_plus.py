"""XNOR-Net++ binary conv with a learnable output scale Γ (Bulat & Tzimiropoulos,
BMVC 2019, arXiv 1909.13863)."""

from lab_bnn.errors import UserError
from lab_bnn.layers.base import register_layer
from lab_bnn.registry import Card

import larq as lq
import tensorflow as tf


@register_layer(
    "xnor_plus_plus_conv2d",
    Card(
        paper="Bulat & Tzimiropoulos, BMVC 2019, arXiv 1909.13863",
        role="layer",
        learnable="Γ = α[C_out] ⊗ β[H_out] ⊗ γ[W_out]",
        float_ops=frozenset({"MUL", "RESHAPE"}),
        stays_float="one MUL by Γ (its spatial factors cannot fold into LCE's per-channel "
        "multiplier), between two RESHAPEs",
    ),
)
class XnorPlusPlusConv2D(lq.layers.QuantConv2D):
    """conv(sign(x), sign(W)) ⊙ Γ with Γ = α ⊗ β ⊗ γ over (C_out, H_out, W_out),
    all learnable and initialised to 1; signs with clip-STE (larq `ste_sign`).

    Arguments:
        scale_initializer: initializer of α, β and γ.
        **kwargs: QuantConv2D arguments.

    Raises:
        UserError: if the input height or width is not static (Γ needs H_out, W_out).
    """

    def __init__(
        self,
        *args,
        input_quantizer="ste_sign",
        kernel_quantizer="ste_sign",
        scale_initializer="ones",
        **kwargs,
    ):
        kwargs.setdefault("kernel_constraint", "weight_clip")
        super().__init__(*args, input_quantizer=input_quantizer, kernel_quantizer=kernel_quantizer, **kwargs)
        self.scale_initializer = tf.keras.initializers.get(scale_initializer)

    def build(self, input_shape):
        shape = tf.TensorShape(input_shape)
        if shape.rank != 4 or shape[1] is None or shape[2] is None:
            raise UserError(
                "XnorPlusPlusConv2D needs a 4-D input with static height and width (Γ "
                f"has one factor per output row and column); received input shape {shape}"
            )
        super().build(input_shape)
        _, height, width, _ = self.compute_output_shape(shape)
        self.channel_scale = self.add_weight(
            "channel_scale", (self.filters,), initializer=self.scale_initializer
        )
        self.height_scale = self.add_weight("height_scale", (height,), initializer=self.scale_initializer)
        self.width_scale = self.add_weight("width_scale", (width,), initializer=self.scale_initializer)

    def call(self, inputs):
        gamma = (
            self.height_scale[:, None, None]
            * self.width_scale[None, :, None]
            * self.channel_scale[None, None, :]
        )
        outputs = super().call(inputs)
        _, height, width, channels = outputs.shape
        # LCE 0.16 folds ANY constant MUL that follows a binary conv into its
        # per-channel multiplier, making an invalid model for a spatial Γ; a RESHAPE
        # in between keeps the MUL a MUL.
        flat = tf.reshape(outputs, (-1, height * width, channels))
        scaled = flat * tf.reshape(gamma, (1, height * width, channels))
        return tf.reshape(scaled, (-1, height, width, channels))

    def get_config(self):
        return {
            **super().get_config(),
            "scale_initializer": tf.keras.initializers.serialize(self.scale_initializer),
        }
