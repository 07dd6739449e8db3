"""ReCU's binary conv with a learnable per-channel output scale (Xu et al., ICCV 2021)."""

from lab_bnn.layers.base import register_layer
from lab_bnn.registry import Card

import larq as lq
import tensorflow as tf


@register_layer(
    "recu_conv2d",
    Card(
        paper="Xu et al., ICCV 2021, arXiv 2103.12369",
        role="layer",
        learnable="per-channel output scale",
    ),
)
class ReCUConv2D(lq.layers.QuantConv2D):
    """conv(sign(a), sign(w)) · α_c: a larq QuantConv2D with ReCU's binarizers by
    default and a learnable per-output-channel scale α (BiBench: init U(0, 1)).

    Arguments:
        scale_initializer: initializer of α.
        **kwargs: QuantConv2D arguments (filters, kernel_size, padding, ...).
    """

    def __init__(
        self,
        *args,
        input_quantizer="recu_activation",
        kernel_quantizer="recu_weight",
        scale_initializer=None,
        **kwargs,
    ):
        super().__init__(*args, input_quantizer=input_quantizer, kernel_quantizer=kernel_quantizer, **kwargs)
        self.scale_initializer = tf.keras.initializers.get(
            scale_initializer or tf.keras.initializers.RandomUniform(0.0, 1.0)
        )

    def build(self, input_shape):
        super().build(input_shape)
        self.scale = self.add_weight("scale", (self.filters,), initializer=self.scale_initializer)

    def call(self, inputs):
        return super().call(inputs) * self.scale

    def get_config(self):
        return {
            **super().get_config(),
            "scale_initializer": tf.keras.initializers.serialize(self.scale_initializer),
        }
