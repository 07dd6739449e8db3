"""A small Bi-Real-style BNN for 28×28 inputs: the demo's and benchmarks' network."""

from typing import Sequence

import larq as lq
import tensorflow as tf

STAGES = ((64, False), (64, True), (128, False), (128, True))


def SmallBNN(
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    input_quantizer="ste_sign",
    kernel_quantizer="ste_sign",
) -> tf.keras.Model:
    """Float 3×3 stem, four binary 3×3 blocks (BN, real shortcut where widths
    match, max-pool after the 2nd and 4th), global pool, float dense logits.

    Arguments:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        input_quantizer: activation binarizer of every binary conv (alias or object;
            an object is copied per layer through its config).
        kernel_quantizer: weight binarizer of every binary conv.

    Returns:
        A Keras model producing logits.
    """
    inputs = tf.keras.Input(tuple(input_shape))
    x = tf.keras.layers.Conv2D(64, 3, padding="same", use_bias=False)(inputs)
    x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)
    for filters, pool in STAGES:
        shortcut = x
        x = lq.layers.QuantConv2D(
            filters, 3, padding="same", pad_values=1.0,
            input_quantizer=_fresh(input_quantizer),
            kernel_quantizer=_fresh(kernel_quantizer),
            kernel_constraint="weight_clip", use_bias=False,
        )(x)
        x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)
        if shortcut.shape[-1] == filters:
            x = tf.keras.layers.add([x, shortcut])
        if pool:
            x = tf.keras.layers.MaxPool2D()(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(num_classes)(x)
    return tf.keras.Model(inputs, outputs, name="small_bnn")


def _fresh(quantizer):
    # A quantizer with weights (LAB) must not be shared between layers.
    if isinstance(quantizer, tf.keras.layers.Layer):
        return quantizer.__class__.from_config(quantizer.get_config())
    return quantizer
