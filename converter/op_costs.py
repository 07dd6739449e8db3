"""What each converted operator costs: binary or float, and its multiply-accumulates."""

import math
from typing import Iterable

from converter.tflite_ops import TfliteOperator

# LCE's bit-level ops; everything else in the graph computes on floats.
BINARY_OPS = frozenset({"LceQuantize", "LceBconv2d", "LceBMaxPool2d"})


def is_binary(op: TfliteOperator) -> bool:
    return op.op_type in BINARY_OPS


def multiply_accumulates(op: TfliteOperator) -> int:
    """MACs of one inference of a conv, depthwise conv or fully connected op, else 0.

    LceBconv2d filters are bitpacked (C_out, kh, kw, words per group); the input
    channel count comes from its custom options, and C_out from the filter, because a
    bconv that feeds a sign writes bitpacked output (C_out / 32 words).
    """
    if op.op_type == "CONV_2D":
        (_, h, w, c_out), (_, kh, kw, c_group) = op.output_shapes[0], op.input_shapes[1]
        return h * w * c_out * kh * kw * c_group
    if op.op_type == "DEPTHWISE_CONV_2D":
        (_, h, w, c_out), (_, kh, kw, _) = op.output_shapes[0], op.input_shapes[1]
        return h * w * c_out * kh * kw
    if op.op_type == "FULLY_CONNECTED":
        units, features = op.input_shapes[1]
        rows = math.prod(op.output_shapes[0][:-1])
        return rows * units * features
    if op.op_type == "LceBconv2d":
        (_, h, w, _), (c_out, kh, kw, words_per_group) = op.output_shapes[0], op.input_shapes[1]
        channels_in = int(op.options["channels_in"])
        groups = max(1, math.ceil(channels_in / 32) // words_per_group)
        return h * w * c_out * kh * kw * channels_in // groups
    return 0


def float_ops(ops: Iterable[TfliteOperator]) -> list:
    """The operators that compute on floats."""
    return [op for op in ops if not is_binary(op)]
