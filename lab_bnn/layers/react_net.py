"""ReActNet's RPReLU (Liu et al., ECCV 2020, arXiv 2003.03488)."""

from lab_bnn.layers.base import register_layer
from lab_bnn.registry import Card

import tensorflow as tf


@register_layer(
    "rprelu",
    Card(
        paper="Liu et al., ECCV 2020, arXiv 2003.03488",
        role="layer",
        learnable="per-channel shifts γ, ζ and slope",
        float_ops=frozenset({"ADD", "MUL", "NEG", "RELU", "SUB"}),
        stays_float="the activation itself (float, between binary convs)",
    ),
)
class RPReLU(tf.keras.layers.Layer):
    """RPReLU(x) = PReLU(x − γ_c) + ζ_c with learnable per-channel γ, ζ (init 0) and
    PReLU slope (init 0.25, as PyTorch's PReLU).

    Arguments:
        shift_initializer: initializer of γ and ζ.
        slope_initializer: initializer of the PReLU slope.
    """

    def __init__(self, shift_initializer="zeros", slope_initializer=0.25, **kwargs):
        super().__init__(**kwargs)
        self.shift_initializer = tf.keras.initializers.get(shift_initializer)
        self.slope_initializer = (
            tf.keras.initializers.Constant(slope_initializer)
            if isinstance(slope_initializer, (int, float))
            else tf.keras.initializers.get(slope_initializer)
        )

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.input_shift = self.add_weight("input_shift", (channels,), initializer=self.shift_initializer)
        self.slope = self.add_weight("slope", (channels,), initializer=self.slope_initializer)
        self.output_shift = self.add_weight("output_shift", (channels,), initializer=self.shift_initializer)
        super().build(input_shape)

    def call(self, inputs):
        shifted = inputs - self.input_shift
        return tf.nn.relu(shifted) - self.slope * tf.nn.relu(-shifted) + self.output_shift

    def get_config(self):
        return {
            **super().get_config(),
            "shift_initializer": tf.keras.initializers.serialize(self.shift_initializer),
            "slope_initializer": tf.keras.initializers.serialize(self.slope_initializer),
        }
