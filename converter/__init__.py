"""Keras → `.tflite` through the Larq Compute Engine, with inference forms fused first."""

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow; registers binarizers)

from converter.convert import convert
from converter.fuse import fuse_for_inference
from converter.tflite_ops import TfliteOperator, read_operators

__all__ = ["convert", "fuse_for_inference", "read_operators", "TfliteOperator"]
