"""Keras → `.tflite` through the Larq Compute Engine, with inference forms fused first."""

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow; registers binarizers)

from converter.audit import AuditReport, audit
from converter.convert import convert
from converter.fuse import fuse_for_inference
from converter.op_costs import BINARY_OPS, float_ops, is_binary, multiply_accumulates
from converter.parity import ParityReport, check_parity
from converter.tflite_ops import TfliteOperator, read_operators
from converter.zero_padding import ZeroPaddingWarning, zero_padding_warnings

__all__ = [
    "AuditReport",
    "ParityReport",
    "audit",
    "check_parity",
    "BINARY_OPS",
    "TfliteOperator",
    "convert",
    "float_ops",
    "fuse_for_inference",
    "is_binary",
    "multiply_accumulates",
    "read_operators",
    "ZeroPaddingWarning",
    "zero_padding_warnings",
]
