"""ReActNet-A (Liu et al., ECCV 2020, arXiv 2003.03488): a binary MobileNetV1 with
RSign and RPReLU, with per-stage LAB placement (Falkena et al., WACV 2023)."""

from typing import Dict, Optional, Sequence

from lab_bnn.recipes import RECIPES

import larq as lq
import tensorflow as tf
from zookeeper import Field, factory

from zoo.models.factory import ZooModelFactory, build_model

REACT_NET = RECIPES["react_net"]  # RSign inputs, scaled-sign weights, RPReLU
STEM_WIDTH = 32
# (output width, stride) of MobileNetV1's 13 depthwise-separable blocks.
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), *((512, 1),) * 5, (1024, 2), (1024, 1))
STAGE_OF_WIDTH = {64: 0, 128: 0, 256: 1, 512: 2, 1024: 3}


def batch_norm() -> tf.keras.layers.Layer:
    return tf.keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)  # PyTorch's defaults


@factory
class ReActNetFactory(ZooModelFactory):
    """ReActNet-A: float 3×3 s2 stem conv to 32 channels + BN, 13 binary blocks, global
    average pool, float Dense.

    A block is RSign → binary 3×3 conv (stride s) → BN → + shortcut (AvgPool 2×2 when
    s = 2) → RPReLU, then RSign → binary 1×1 conv → BN → + shortcut → RPReLU. Where the
    width doubles, the paper's two 1×1 convs on one sign, each with the block's input as
    shortcut, are concatenated: that is one 1×1 conv with twice the outputs and the
    input twice as shortcut — the same function and parameters, one LCE op.

    `lab_blocks` has 4 stages, grouped by output width: 1 = the blocks producing 64 and
    128 channels (3 blocks), 2 = 256 (2), 3 = 512 (6), 4 = 1024 (2). LAB replaces RSign
    in its stage.
    """

    model_name = "ReActNet"
    input_quantizer: str = Field(REACT_NET.input_quantizer)
    kernel_quantizer: str = Field(REACT_NET.kernel_quantizer)
    kernel_constraint: str = Field("weight_clip")
    field_help: Dict[str, str] = {
        "input_quantizer": "activation binarizer of the stages without LAB: a larq or lab-bnn "
        "alias (rsign, the paper's, ste_sign, approx_sign, ...)",
        "kernel_quantizer": "weight binarizer of every binary conv: a larq or lab-bnn alias "
        "(scaled_sign, the paper's, ste_sign, magnitude_aware_sign, ...)",
        "kernel_constraint": "constraint on the latent weights of every binary conv: a larq or "
        "Keras alias (weight_clip keeps them in [-1, 1])",
    }

    def binary_conv_bn(self, x, filters: int, kernel_size: int, strides: int, binarizer: str):
        x = lq.layers.QuantConv2D(
            filters,
            kernel_size,
            strides=strides,
            padding="same",
            input_quantizer=binarizer,
            kernel_quantizer=self.kernel_quantizer,
            kernel_constraint=self.kernel_constraint,
            use_bias=False,
        )(x)
        return batch_norm()(x)

    def block(self, x, filters: int, strides: int, binarizer: str):
        channels = x.shape[-1]
        shortcut = x
        if strides > 1:
            shortcut = tf.keras.layers.AvgPool2D(2, strides=strides, padding="same")(shortcut)
        x = self.binary_conv_bn(x, channels, 3, strides, binarizer)
        x = REACT_NET.activation()(tf.keras.layers.add([x, shortcut]))
        shortcut = x
        if filters != channels:
            shortcut = tf.keras.layers.concatenate([x] * (filters // channels))
        y = self.binary_conv_bn(x, filters, 1, 1, binarizer)
        return REACT_NET.activation()(tf.keras.layers.add([y, shortcut]))

    def build(self) -> tf.keras.Model:
        binarizers = self.stage_binarizers(default=self.input_quantizer)
        inputs = self.image_input()
        x = tf.keras.layers.Conv2D(STEM_WIDTH, 3, strides=2, padding="same", use_bias=False)(inputs)
        x = batch_norm()(x)
        for filters, strides in BLOCKS:
            x = self.block(x, filters, strides, binarizers[STAGE_OF_WIDTH[filters]])
        if self.include_top:
            x = tf.keras.layers.GlobalAveragePooling2D()(x)
            x = tf.keras.layers.Dense(self.num_classes)(x)
            x = tf.keras.layers.Activation("softmax", dtype="float32")(x)
        return tf.keras.Model(inputs, x, name=self.model_name.lower())


def ReActNet(
    *,
    input_shape: Optional[Sequence[int]] = None,
    num_classes: int = 1000,
    include_top: bool = True,
    lab_blocks: Optional[Sequence[bool]] = None,
    input_quantizer: Optional[str] = None,
) -> tf.keras.Model:
    """ReActNet-A; `lab_blocks=(True,) * 4` puts LAB in place of every RSign (LAB paper:
    ImageNet top-1 62.4 % → 64.1 %).

    Stages of `lab_blocks`, by output width: 64 and 128, 256, 512, 1024.

    Raises:
        UserError: if lab_blocks does not have one boolean per stage.

    Example:
        >>> ReActNet(input_shape=(32, 32, 3), num_classes=10, lab_blocks=(False, False, True, True))
    """
    return build_model(
        ReActNetFactory,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        lab_blocks=lab_blocks,
        input_quantizer=input_quantizer,
    )
