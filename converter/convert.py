"""Keras model → LCE `.tflite` flatbuffer."""

import larq_compute_engine as lce
import tensorflow as tf

from converter.fuse import fuse_for_inference
from lab_bnn.errors import UserError


def convert(model: tf.keras.Model, *, fuse: bool = True, **lce_options) -> bytes:
    """Convert `model` to a `.tflite` flatbuffer with LCE's `convert_keras_model`.

    Arguments:
        model: a functional or Sequential Keras model.
        fuse: apply `fuse_for_inference` first (LAB → one depthwise conv + sign).
        **lce_options: passed to `larq_compute_engine.convert_keras_model`
            (`target`, `inference_input_type`, ...).

    Returns:
        The flatbuffer bytes.

    Example:
        >>> open("model.tflite", "wb").write(convert(model))
    """
    if fuse:
        model = fuse_for_inference(model)
    elif not isinstance(model, tf.keras.Model):
        raise UserError(f"convert takes a tf.keras.Model; received {type(model).__name__}")
    return lce.convert_keras_model(model, **lce_options)
