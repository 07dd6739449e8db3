"""A small Bi-Real-style BNN for 28×28 inputs: the demo's and benchmarks' network."""

from typing import Optional, Sequence

import larq as lq
import tensorflow as tf

STAGES = ((64, False), (64, True), (128, False), (128, True))


def SmallBNN(
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    num_classes: int = 10,
    input_quantizer="ste_sign",
    kernel_quantizer="ste_sign",
    include_top: bool = True,
    lab_blocks: Optional[Sequence[bool]] = None,
) -> tf.keras.Model:
    """Float 3×3 stem, four binary 3×3 blocks (BN, real shortcut where widths
    match, max-pool after the 2nd and 4th), global pool, float dense logits.

    Arguments:
        input_shape: (height, width, channels).
        num_classes: number of logits.
        input_quantizer: activation binarizer of every binary conv (alias or object;
            an object is copied per layer through its config).
        kernel_quantizer: weight binarizer of every binary conv.
        include_top: add the pooling and logits; without, the model ends at the blocks.
        lab_blocks: one flag per block (the 4 stages); LAB replaces input_quantizer
            where True.

    Returns:
        A Keras model producing logits.
    """
    quantizers = [input_quantizer] * len(STAGES)
    if lab_blocks is not None:
        flags = tuple(lab_blocks)
        if len(flags) != len(STAGES):
            raise ValueError(f"lab_blocks has {len(flags)} entries {flags}, SmallBNN has "
                             f"{len(STAGES)} stages: give one True/False per stage")
        quantizers = ["lab" if flag else input_quantizer for flag in flags]
    inputs = tf.keras.Input(tuple(input_shape))
    x = tf.keras.layers.Conv2D(64, 3, padding="same", use_bias=False)(inputs)
    x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)
    for (filters, pool), quantizer in zip(STAGES, quantizers):
        shortcut = x
        x = lq.layers.QuantConv2D(
            filters, 3, padding="same", pad_values=1.0,
            input_quantizer=_fresh(quantizer),
            kernel_quantizer=_fresh(kernel_quantizer),
            kernel_constraint="weight_clip", use_bias=False,
        )(x)
        x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)
        if shortcut.shape[-1] == filters:
            x = tf.keras.layers.add([x, shortcut])
        if pool:
            x = tf.keras.layers.MaxPool2D()(x)
    if include_top:
        x = tf.keras.layers.GlobalAveragePooling2D()(x)
        x = tf.keras.layers.Dense(num_classes)(x)
    return tf.keras.Model(inputs, x, name="small_bnn")


def _fresh(quantizer):
    # A quantizer with weights (LAB) must not be shared between layers.
    if isinstance(quantizer, tf.keras.layers.Layer):
        return quantizer.__class__.from_config(quantizer.get_config())
    return quantizer
