"""BoolNet's multi-slice sign and multi-slice binary conv (Guo et al., arXiv 2106.06991)."""

from typing import List

from lab_bnn.errors import UserError
from lab_bnn.layers.base import register_layer
from lab_bnn.registry import Card

import larq as lq
import tensorflow as tf

BOOLNET_PAPER = "BoolNet, Guo et al., arXiv 2106.06991"


def require_slices(layer: str, slices) -> int:
    """k must be 1 or a positive even integer."""
    if not isinstance(slices, int) or isinstance(slices, bool) or slices < 1 or (slices > 1 and slices % 2):
        raise UserError(
            f"{layer} slices must be 1 or a positive even integer (1, 2, 4, ...); received {slices!r}"
        )
    return slices


def slice_offsets(slices: int) -> List[float]:
    """The thermometer offsets b_s = i/(k/2 + 1), i = −k/2..k/2, i ≠ 0 (k = 1: [0])."""
    half = slices // 2
    return [0.0] if slices == 1 else [i / (half + 1) for i in range(-half, half + 1) if i]


@register_layer(
    "multi_slice_sign",
    Card(
        paper=BOOLNET_PAPER,
        role="layer",
        float_ops=frozenset({"ADD", "SIGN", "TILE"}),
        stays_float="one tiled ADD of the k offsets before one sign",
    ),
)
class MultiSliceSign(tf.keras.layers.Layer):
    """k binary slices of x: binarizer(x + b_s), concatenated slice-major, so slice s
    holds channels s·C .. (s+1)·C − 1 — the group s of a multi-slice conv.

    Arguments:
        slices: k, 1 or even.
        binarizer: the sign applied to every slice (an alias such as "ste_sign" for
            BoolNet's clip-STE sign, or "lab" to learn it).

    Raises:
        UserError: for k odd and > 1, or not positive.
    """

    def __init__(self, slices: int = 1, binarizer="ste_sign", **kwargs):
        super().__init__(**kwargs)
        self.slices = require_slices("MultiSliceSign", slices)
        self.binarizer = lq.quantizers.get(binarizer)

    def call(self, inputs):
        if self.slices == 1:
            return self.binarizer(inputs)
        channels = inputs.shape[-1]
        offsets = tf.repeat(tf.constant(slice_offsets(self.slices), inputs.dtype), channels)
        return self.binarizer(tf.tile(inputs, [1, 1, 1, self.slices]) + offsets)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate([input_shape[-1] * self.slices])

    def get_config(self):
        return {
            **super().get_config(),
            "slices": self.slices,
            "binarizer": lq.quantizers.serialize(self.binarizer),
        }


@register_layer(
    "multi_slice_binary_conv2d",
    Card(
        paper=BOOLNET_PAPER,
        role="layer",
        learnable="binary kernel (progressive binarization)",
        float_ops=frozenset({"ADD", "LceDequantize", "MIRROR_PAD", "TILE"}),
        stays_float="with padding_mode='replicate' the edge padding (MIRROR_PAD on "
        "dequantized ±1); padding_mode='one' stays fully binary",
    ),
)
class MultiSliceBinaryConv2D(lq.layers.QuantConv2D):
    """A grouped binary conv with groups = k: group s reads slice s (same MACs as one
    plain conv over one slice set). The input is ±1 already; `input_quantizer` marks
    it binary for LCE, which runs grouped binary convs with its indirect-BGEMM and
    reference kernels only.

    Arguments:
        filters, kernel_size, strides, dilation_rate: as Conv2D.
        slices: k, the number of groups.
        padding_mode: "replicate" (the paper: edges repeat, so padding stays ±1) or
            "one" (LCE's native pad value +1, fully binary after conversion).
        **kwargs: other QuantConv2D arguments, but not groups, padding or pad_values
            (set by slices and padding_mode).

    Raises:
        UserError: for bad k or padding_mode, any of groups, padding or pad_values, or
            fewer than 32 input channels per group when k > 1 (LCE's grouped binary
            conv needs them).
    """

    def __init__(
        self,
        filters,
        kernel_size,
        slices: int = 1,
        padding_mode: str = "replicate",
        input_quantizer="ste_sign",
        kernel_quantizer="progressive_sign",
        **kwargs,
    ):
        if padding_mode not in ("replicate", "one"):
            raise UserError(f"padding_mode must be 'replicate' or 'one'; received {padding_mode!r}")
        fixed = {key: kwargs[key] for key in ("groups", "padding", "pad_values") if key in kwargs}
        if fixed:
            raise UserError(
                "MultiSliceBinaryConv2D sets groups from slices and padding and pad_values "
                "from padding_mode ('replicate' or 'one'), so it takes none of them; received "
                + ", ".join(f"{key}={value!r}" for key, value in fixed.items())
            )
        kwargs["padding"] = "valid" if padding_mode == "replicate" else "same"
        kwargs.setdefault("use_bias", False)
        kwargs.setdefault("kernel_constraint", "weight_clip")
        super().__init__(
            filters,
            kernel_size,
            groups=require_slices("MultiSliceBinaryConv2D", slices),
            pad_values=1.0,
            input_quantizer=input_quantizer,
            kernel_quantizer=kernel_quantizer,
            **kwargs,
        )
        self.slices = slices
        self.padding_mode = padding_mode

    def _jit_compiled_convolution_op(self, inputs, kernel):
        # tf-keras XLA-compiles grouped convs for CPU; XLA's gradient of them is ~180×
        # slower here than TensorFlow's own grouped conv (5.5 s vs 0.03 s for one layer).
        return self.convolution_op(inputs, kernel)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        per_group = channels // self.slices
        if channels % self.slices or (self.slices > 1 and per_group < 32):
            raise UserError(
                f"MultiSliceBinaryConv2D with {self.slices} slices needs a channel count "
                f"divisible by {self.slices} with at least 32 channels per group; received "
                f"{channels} channels ({channels / self.slices:g} per group)"
            )
        if self.padding_mode == "replicate":
            input_shape = self._padded_shape(tf.TensorShape(input_shape))
        super().build(input_shape)

    def _pad_widths(self):
        return [
            ((k - 1) * d // 2, (k - 1) * d - (k - 1) * d // 2)
            for k, d in zip(self.kernel_size, self.dilation_rate)
        ]

    def _padded_shape(self, shape):
        (top, bottom), (left, right) = self._pad_widths()
        grow = lambda n, a, b: None if n is None else n + a + b  # noqa: E731
        return tf.TensorShape([shape[0], grow(shape[1], top, bottom), grow(shape[2], left, right), shape[3]])

    def call(self, inputs):
        if self.padding_mode == "replicate":
            # SYMMETRIC mirrors the border pixel itself: for a 1-pixel pad, edge replication.
            widths = [[0, 0], *map(list, self._pad_widths()), [0, 0]]
            if max(max(w) for w in widths) > 1:
                inputs = _replicate_pad(inputs, widths)
            else:
                inputs = tf.pad(inputs, widths, mode="SYMMETRIC")
        return super().call(inputs)

    def get_config(self):
        config = super().get_config()
        for key in ("groups", "pad_values", "padding"):
            config.pop(key)
        return {**config, "slices": self.slices, "padding_mode": self.padding_mode}


def _replicate_pad(inputs, widths):
    """Edge replication for pads wider than one pixel (dilated convs)."""
    for axis, (before, after) in ((1, widths[1]), (2, widths[2])):
        first = tf.gather(inputs, [0], axis=axis)
        last = tf.gather(inputs, [tf.shape(inputs)[axis] - 1], axis=axis)
        inputs = tf.concat(
            [tf.repeat(first, before, axis=axis), inputs, tf.repeat(last, after, axis=axis)], axis=axis
        )
    return inputs
