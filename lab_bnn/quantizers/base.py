"""What every lab-bnn binarizer shares: the registry, larq's base class, input checks."""

from typing import Sequence

import larq as lq
import tensorflow as tf

from lab_bnn.registry import Registry

BINARIZERS = Registry("binarizer")
register_binarizer = BINARIZERS.register

# larq's own quantizers derive from this private base: it gives `metrics=["flip_ratio"]`
# support and the `precision` attribute that `lq.models.summary` reads.
BinarizerBase = lq.quantizers._BaseQuantizer


def require_nhwc(binarizer: str, input_shape: Sequence) -> int:
    """Return the channel count of a 4-D NHWC shape.

    Raises:
        ValueError: if the shape is not 4-D or its channel count is unknown.
    """
    shape = tf.TensorShape(input_shape)
    if shape.rank != 4 or shape[-1] is None:
        raise ValueError(
            f"{binarizer} binarizes 4-D NHWC feature maps (batch, height, width, "
            f"channels) with a known channel count; received input shape {shape}"
        )
    return int(shape[-1])


def require_rank_at_least_2(binarizer: str, input_shape: Sequence, what: str) -> None:
    """Raises ValueError unless the shape has a leading and a channel axis.

    `what` names the expected tensor, e.g. "a kernel (..., inputs, outputs)".
    """
    shape = tf.TensorShape(input_shape)
    if shape.rank is None or shape.rank < 2:
        raise ValueError(f"{binarizer} binarizes {what} of rank 2 or more; received shape {shape}")


def require_positive_int(binarizer: str, argument: str, value, odd: bool = False) -> int:
    """Validate an integer size argument (a window or kernel size).

    Raises:
        ValueError: naming the value received and what is allowed.
    """
    allowed = "a positive odd integer (1, 3, 5, ...)" if odd else "a positive integer"
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    if not ok or (odd and value % 2 == 0):
        raise ValueError(f"{binarizer} {argument} must be {allowed}; received {value!r}")
    return value
