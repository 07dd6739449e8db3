"""BoolNet's multi-slice sign and multi-slice binary conv (Guo et al., arXiv 2106.06991)."""

from typing import List

from lab_bnn.errors import UserError
from lab_bnn.layers.base import register_layer
from lab_bnn.registry import Card

import larq as lq
import tensorflow as tf

BOOLNET_PAPER = "BoolNet, Guo et al., arXiv 2106.06991"
OFFICIAL_SIGN = "boolnet_sign"  # MultiSliceSign's name for `boolnet_sign`


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


@tf.custom_gradient
def boolnet_sign(x: tf.Tensor) -> tf.Tensor:
    """sign(x) with sign(0) = 0 (torch.sign), gradient 1{|x| ≤ 1}: BoolNet's code's
    binarize(x, progressive=False, scale=False)."""

    def grad(dy):
        return dy * tf.cast(tf.abs(x) <= 1.0, dy.dtype)

    return tf.sign(x), grad


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
    """k binary slices of x: sign(x + b_s), concatenated slice-major, so slice s holds
    channels s·C .. (s+1)·C − 1 — the group s of a multi-slice conv.

    Arguments:
        slices: k, 1 or even.
        binarizer: the sign applied to every slice: a larq binarizer alias, "ste_sign"
            (default; clip-STE, an exact 0 gives +1 so slices stay Boolean as the paper
            has them and LCE bitpacks them) or "lab" to learn it; or "boolnet_sign",
            BoolNet's code's GhostSign sign, torch.sign with the same clip-STE, which
            leaves an exact 0 at 0 (a third value that LCE keeps as a float SIGN). The
            two agree everywhere but at exact ties x + b_s = 0.

    Raises:
        UserError: for k odd and > 1, or not positive, or an unknown binarizer.

    Example:
        >>> MultiSliceSign(4)(tf.zeros((1, 2, 2, 8))).shape
        TensorShape([1, 2, 2, 32])
    """

    def __init__(self, slices: int = 1, binarizer="ste_sign", **kwargs):
        super().__init__(**kwargs)
        self.slices = require_slices("MultiSliceSign", slices)
        if binarizer == OFFICIAL_SIGN:
            self.binarizer = OFFICIAL_SIGN
        else:
            try:
                self.binarizer = lq.quantizers.get(binarizer)
            except ValueError:
                self.binarizer = None
            if self.binarizer is None:
                raise UserError(
                    f"MultiSliceSign binarizer must be {OFFICIAL_SIGN!r} or a larq binarizer alias "
                    f"such as 'ste_sign'; received {binarizer!r}"
                )

    def call(self, inputs):
        sign = boolnet_sign if self.binarizer == OFFICIAL_SIGN else self.binarizer
        if self.slices == 1:
            return sign(inputs)
        channels = inputs.shape[-1]
        offsets = tf.repeat(tf.constant(slice_offsets(self.slices), inputs.dtype), channels)
        return sign(tf.tile(inputs, [1, 1, 1, self.slices]) + offsets)

    def compute_output_shape(self, input_shape):
        return tf.TensorShape(input_shape)[:-1].concatenate([input_shape[-1] * self.slices])

    def get_config(self):
        binarizer = (
            OFFICIAL_SIGN if self.binarizer == OFFICIAL_SIGN else lq.quantizers.serialize(self.binarizer)
        )
        return {**super().get_config(), "slices": self.slices, "binarizer": binarizer}


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
    plain conv over one slice set), as BoolNet's code's MultiBConv with groups = slices.

    The input is ±1 already; `input_quantizer` marks it binary for LCE, which runs
    grouped binary convs with its indirect-BGEMM and reference kernels only. Unlike
    MultiBConv (no input binarizer) the default "ste_sign" turns an exact 0 (the
    official sign of a tie) into +1; input_quantizer=None passes it as 0.

    Arguments:
        filters, kernel_size, strides, dilation_rate: as Conv2D.
        slices: k, the number of groups.
        padding_mode: "replicate" (the paper: edges repeat, so padding stays ±1) or
            "one" (LCE's native pad value +1, fully binary after conversion).
        kernel_initializer: "glorot_uniform" (default) or "boolnet", BoolNet's code's
            Kaiming-normal (fan_out) times 1e-2, N(0, 2·10⁻⁴/(kh·kw·filters)); not the
            default because at that scale BatchNorm's moving variance (initially 1)
            takes hundreds of steps to reach the real one, and until then every
            inference-mode sign sits at a near-tie.
        kernel_constraint: default None, as BoolNet's code (it never clips the latent
            weights; the clip-STE zeroes their gradient outside ±1); "weight_clip" is
            the former default.
        **kwargs: other QuantConv2D arguments, but not groups, padding or pad_values
            (set by slices and padding_mode).

    Raises:
        UserError: for bad k or padding_mode, any of groups, padding or pad_values, or
            fewer than 32 input channels per group when k > 1 (LCE's grouped binary
            conv needs them).

    Example:
        >>> MultiSliceBinaryConv2D(64, 3, slices=2)(tf.ones((1, 8, 8, 128))).shape
        TensorShape([1, 8, 8, 64])
    """

    def __init__(
        self,
        filters,
        kernel_size,
        slices: int = 1,
        padding_mode: str = "replicate",
        input_quantizer="ste_sign",
        kernel_quantizer="progressive_sign",
        kernel_initializer="glorot_uniform",
        kernel_constraint=None,
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
        if kernel_initializer == "boolnet":
            kernel_initializer = boolnet_kernel_initializer()
        super().__init__(
            filters,
            kernel_size,
            groups=require_slices("MultiSliceBinaryConv2D", slices),
            pad_values=1.0,
            input_quantizer=input_quantizer,
            kernel_quantizer=kernel_quantizer,
            kernel_initializer=kernel_initializer,
            kernel_constraint=kernel_constraint,
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


def boolnet_kernel_initializer() -> tf.keras.initializers.Initializer:
    """BoolNet's code's init_model for MultiBConv: kaiming_normal_(mode="fan_out") · 1e-2."""
    return tf.keras.initializers.VarianceScaling(2e-4, mode="fan_out", distribution="untruncated_normal")


def _replicate_pad(inputs, widths):
    """Edge replication for pads wider than one pixel (dilated convs)."""
    for axis, (before, after) in ((1, widths[1]), (2, widths[2])):
        first = tf.gather(inputs, [0], axis=axis)
        last = tf.gather(inputs, [tf.shape(inputs)[axis] - 1], axis=axis)
        inputs = tf.concat(
            [tf.repeat(first, before, axis=axis), inputs, tf.repeat(last, after, axis=axis)], axis=axis
        )
    return inputs
