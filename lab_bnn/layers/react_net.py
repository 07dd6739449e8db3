"""ReActNet's RPReLU (Liu et al., ECCV 2020, arXiv 2003.03488)."""

from lab_bnn.errors import UserError
from lab_bnn.layers.base import register_layer
from lab_bnn.registry import Card

import tensorflow as tf

GRADIENTS_AT_ZERO = ("slope", "zero")


@register_layer(
    "rprelu",
    Card(
        paper="Liu et al., ECCV 2020, arXiv 2003.03488",
        role="layer",
        learnable="per-channel shifts γ, ζ and slope",
        float_ops=frozenset({"ADD", "MUL", "RELU"}),
        stays_float="the activation itself (float, between binary convs)",
    ),
)
class RPReLU(tf.keras.layers.Layer):
    """RPReLU(x) = PReLU(x − γ_c) + ζ_c with learnable per-channel γ, ζ (init 0) and
    PReLU slope (init 0.25, as PyTorch's PReLU).

    BiBench's ReActNet writes it LearnableBias (x + b) → nn.PReLU → LearnableBias: the
    same function with γ = −b. The papers leave the gradient at the kink x − γ = 0
    open; PyTorch's PReLU gives it the slope, and so does the default here.

    Arguments:
        shift_initializer: initializer of γ and ζ.
        slope_initializer: initializer of the PReLU slope.
        gradient_at_zero: d/dx at x − γ = 0: "slope" (PyTorch's PReLU, BiBench's
            code) or "zero" (lab_bnn before issue 14: relu(s) − slope·relu(−s), whose
            ReLUs both have gradient 0 there). Equal everywhere else.

    Raises:
        UserError: if gradient_at_zero is not "slope" or "zero".

    Example:
        >>> RPReLU()(tf.zeros((1, 4, 4, 8))).shape
        TensorShape([1, 4, 4, 8])
    """

    def __init__(self, shift_initializer="zeros", slope_initializer=0.25, gradient_at_zero="slope", **kwargs):
        if gradient_at_zero not in GRADIENTS_AT_ZERO:
            raise UserError(
                f"RPReLU gradient_at_zero must be one of {', '.join(map(repr, GRADIENTS_AT_ZERO))}; "
                f"received {gradient_at_zero!r}"
            )
        super().__init__(**kwargs)
        self.gradient_at_zero = gradient_at_zero
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
        if self.gradient_at_zero == "zero":
            return tf.nn.relu(shifted) - self.slope * tf.nn.relu(-shifted) + self.output_shift
        # slope·s + (1 − slope)·relu(s): the linear term carries the slope through s = 0
        return self.slope * shifted + (1.0 - self.slope) * tf.nn.relu(shifted) + self.output_shift

    def get_config(self):
        return {
            **super().get_config(),
            "shift_initializer": tf.keras.initializers.serialize(self.shift_initializer),
            "slope_initializer": tf.keras.initializers.serialize(self.slope_initializer),
            "gradient_at_zero": self.gradient_at_zero,
        }
