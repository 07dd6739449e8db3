"""A small Bi-Real-style BNN for 28×28 inputs: the demo's and benchmarks' network."""

from typing import Dict, Optional, Sequence

import larq as lq
import tensorflow as tf
from zookeeper import Field, factory

from zoo.models.factory import (
    ZooModelFactory,
    check_binarizer_alias,
    check_input_shape,
    check_lab_blocks,
    check_num_classes,
)

STAGES = ((64, False), (64, True), (128, False), (128, True))
# Two 2×2 "valid" max-pools need 4 pixels to leave one.
MIN_INPUT_SIZE = 4


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
        input_shape: (height, width, channels), at least 4×4.
        num_classes: number of logits.
        input_quantizer: activation binarizer of every binary conv (alias or object;
            an object is copied per layer through its config).
        kernel_quantizer: weight binarizer of every binary conv.
        include_top: add the pooling and logits; without, the model ends at the blocks.
        lab_blocks: one True/False per block (the 4 stages); LAB replaces
            input_quantizer where True.

    Returns:
        A Keras model producing logits.

    Raises:
        UserError: for an input under 4×4, a num_classes that is not a positive
            integer, a lab_blocks without one bool per block, or a quantizer alias that
            neither lab-bnn nor larq knows.
    """
    check_binarizer_alias("SmallBNN", "input_quantizer", input_quantizer)
    check_binarizer_alias("SmallBNN", "kernel_quantizer", kernel_quantizer)
    flags = check_lab_blocks("SmallBNN", lab_blocks, len(STAGES)) or (False,) * len(STAGES)
    quantizers = ["lab" if flag else input_quantizer for flag in flags]
    num_classes = check_num_classes("SmallBNN", num_classes)
    inputs = tf.keras.Input(check_input_shape("SmallBNN", input_shape, MIN_INPUT_SIZE))
    x = tf.keras.layers.Conv2D(64, 3, padding="same", use_bias=False)(inputs)
    x = tf.keras.layers.BatchNormalization(momentum=0.9)(x)
    for (filters, pool), quantizer in zip(STAGES, quantizers):
        shortcut = x
        x = lq.layers.QuantConv2D(
            filters,
            3,
            padding="same",
            pad_values=1.0,
            input_quantizer=_fresh(quantizer),
            kernel_quantizer=_fresh(kernel_quantizer),
            kernel_constraint="weight_clip",
            use_bias=False,
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


@factory
class SmallBNNFactory(ZooModelFactory):
    """SmallBNN, the LabDemo's network: float 3×3 stem, four binary 3×3 blocks of widths
    64/64/128/128 (max-pool after the 2nd and 4th), global pool, float dense logits.

    A thin zookeeper shell over the keyword builder `SmallBNN`, which validates.
    """

    model_name = "SmallBNN"
    stages = len(STAGES)
    min_input_size = MIN_INPUT_SIZE
    input_shape: Sequence[int] = Field((28, 28, 1))
    num_classes: int = Field(10)
    input_quantizer: str = Field("ste_sign")
    kernel_quantizer: str = Field("ste_sign")
    field_help: Dict[str, str] = {
        "input_quantizer": "activation binarizer of every binary block without LAB: a larq "
        "or lab-bnn alias (ste_sign, approx_sign, sauvola, lab, ...)",
        "kernel_quantizer": "weight binarizer of every binary block: a larq or lab-bnn alias "
        "(ste_sign, magnitude_aware_sign, scaled_sign, ...)",
    }

    def build(self) -> tf.keras.Model:
        return SmallBNN(
            input_shape=self.input_shape,
            num_classes=self.num_classes,
            input_quantizer=self.input_quantizer,
            kernel_quantizer=self.kernel_quantizer,
            include_top=self.include_top,
            lab_blocks=self.lab_blocks,
        )


def _fresh(quantizer):
    # A quantizer with weights (LAB) must not be shared between layers.
    if isinstance(quantizer, tf.keras.layers.Layer):
        return quantizer.__class__.from_config(quantizer.get_config())
    return quantizer
