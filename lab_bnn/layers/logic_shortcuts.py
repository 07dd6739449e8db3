"""BoolNet's 1-bit logic shortcuts on ±1 tensors (Guo et al., arXiv 2106.06991); forward and
gradient equal the XNOR and OR of BoolNet's code (BoolNet_k_4/src/models/boolnet.py),
also on the 0 that its torch.sign gives a tie."""

from lab_bnn.layers.base import register_layer
from lab_bnn.registry import Card

import tensorflow as tf

PAPER = "BoolNet, Guo et al., arXiv 2106.06991"


class _LogicShortcut(tf.keras.layers.Layer):
    """Takes [x, y], two ±1 tensors of one shape."""

    def call(self, inputs):
        x, y = inputs
        return self.logic(x, y)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


@register_layer(
    "logic_xnor",
    Card(
        paper=PAPER,
        role="layer",
        float_ops=frozenset({"ADD", "LceDequantize", "MUL"}),
        stays_float="the XNOR, as a float MUL on dequantized ±1 values (TFLite has no bitwise XNOR)",
    ),
)
class LogicXnor(_LogicShortcut):
    """XNOR(x, y) = x·y on ±1 values; training differentiates the product."""

    @staticmethod
    def logic(x, y):
        return x * y


@register_layer(
    "logic_or",
    Card(
        paper=PAPER,
        role="layer",
        float_ops=frozenset({"ADD", "LceDequantize", "MUL"}),
        stays_float="the OR, as a float ADD with a fused clip on dequantized ±1 values",
    ),
)
class LogicOr(_LogicShortcut):
    """OR(x, y) = clip((x+1)/2 + (y+1)/2, 0, 1)·2 − 1 on ±1 values, computed as the
    identical clip(x + y + 1, −1, 1) (fewer ops); training differentiates it (the clip
    passes gradient inside its bounds, inclusive)."""

    @staticmethod
    def logic(x, y):
        return tf.clip_by_value(x + y + 1.0, -1.0, 1.0)
