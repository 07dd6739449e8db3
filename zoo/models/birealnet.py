"""Bi-Real Net 18 (Liu et al., ECCV 2018, arXiv 1808.00278) and LabBNN (Falkena et
al., WACV 2023) as zoo factories with per-stage LAB placement."""

from typing import Dict, Optional, Sequence

import larq as lq
import tensorflow as tf
from zookeeper import Field, factory

from zoo.models.factory import ZooModelFactory, build_model

BLOCKS_PER_STAGE = 4  # every 3×3 binary conv has its own real-valued shortcut


@factory
class BiRealNetFactory(ZooModelFactory):
    """Bi-Real Net 18: float 7×7 stem, 16 binary 3×3 convs each with a real shortcut
    (AvgPool 2 → 1×1 conv → BN where the shape changes), 4 stages of widths
    filters·(1, 2, 4, 8)."""

    model_name = "BiRealNet"

    filters: int = Field(64)
    input_quantizer: str = Field("approx_sign")
    kernel_quantizer: str = Field("magnitude_aware_sign")
    kernel_constraint: str = Field("weight_clip")
    field_help: Dict[str, str] = {
        "filters": "width of the first stage, a positive integer; stage s has filters·2^s channels",
        "input_quantizer": "activation binarizer of the stages without LAB: a larq or lab-bnn "
        "alias (approx_sign, ste_sign, sauvola, ...)",
        "kernel_quantizer": "weight binarizer of every binary conv: a larq or lab-bnn alias "
        "(magnitude_aware_sign, ste_sign, scaled_sign, ...)",
        "kernel_constraint": "constraint on the latent weights of every binary conv: a larq or "
        "Keras alias (weight_clip keeps them in [-1, 1])",
    }

    def stem(self, x):
        x = tf.keras.layers.Conv2D(self.filters, 7, strides=2, padding="same", use_bias=False)(x)
        x = tf.keras.layers.BatchNormalization(momentum=0.8)(x)
        return tf.keras.layers.MaxPool2D(3, strides=2, padding="same")(x)

    def after_block(self, x):
        return x

    def residual_block(self, x, filters: int, strides: int, binarizer: str):
        shortcut = x
        if strides > 1 or x.shape[-1] != filters:
            shortcut = tf.keras.layers.AvgPool2D(strides, strides=strides, padding="same")(shortcut)
            shortcut = tf.keras.layers.Conv2D(filters, 1, use_bias=False)(shortcut)
            shortcut = tf.keras.layers.BatchNormalization(momentum=0.8)(shortcut)
        x = lq.layers.QuantConv2D(
            filters,
            3,
            strides=strides,
            padding="same",
            input_quantizer=binarizer,
            kernel_quantizer=self.kernel_quantizer,
            kernel_constraint=self.kernel_constraint,
            use_bias=False,
        )(x)
        x = tf.keras.layers.BatchNormalization(momentum=0.8)(x)
        return self.after_block(tf.keras.layers.add([x, shortcut]))

    def build(self) -> tf.keras.Model:
        binarizers = self.stage_binarizers(default=self.input_quantizer)
        inputs = self.image_input()
        x = self.stem(inputs)
        for stage, binarizer in enumerate(binarizers):
            for block in range(BLOCKS_PER_STAGE):
                strides = 2 if block == 0 and stage > 0 else 1
                x = self.residual_block(x, self.filters * 2**stage, strides, binarizer)
        if self.include_top:
            x = tf.keras.layers.GlobalAveragePooling2D()(x)
            x = tf.keras.layers.Dense(self.num_classes)(x)
            x = tf.keras.layers.Activation("softmax", dtype="float32")(x)
        return tf.keras.Model(inputs, x, name=self.model_name.lower())


@factory
class LabBNNFactory(BiRealNetFactory):
    """LabBNN: a QuickNet-style stem (3×3 s2 conv to filters/4, BN, ReLU; depthwise
    3×3 s2, BN; 1×1 conv to filters, BN), Bi-Real blocks with sign inputs
    (LAB where `lab_blocks` says, every stage by default) and PReLU after each add."""

    model_name = "LabBNN"
    input_quantizer: str = Field("ste_sign")
    lab_blocks: Sequence[bool] = Field((True, True, True, True))

    def stem(self, x):
        x = tf.keras.layers.Conv2D(self.filters // 4, 3, strides=2, padding="same", use_bias=False)(x)
        x = tf.keras.layers.BatchNormalization()(x)
        x = tf.keras.layers.Activation("relu")(x)
        x = tf.keras.layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False)(x)
        x = tf.keras.layers.BatchNormalization()(x)
        x = tf.keras.layers.Conv2D(self.filters, 1, use_bias=False)(x)
        return tf.keras.layers.BatchNormalization()(x)

    def after_block(self, x):
        return tf.keras.layers.PReLU(shared_axes=[1, 2])(x)


def BiRealNet(
    *,
    input_shape: Optional[Sequence[int]] = None,
    num_classes: int = 1000,
    include_top: bool = True,
    lab_blocks: Optional[Sequence[bool]] = None,
    input_quantizer: Optional[str] = None,
) -> tf.keras.Model:
    """Bi-Real Net 18; `lab_blocks=(True,) * 4` puts LAB in every stage (LAB paper).

    Example:
        >>> BiRealNet(input_shape=(32, 32, 3), num_classes=10, lab_blocks=(True,) * 4)
    """
    return build_model(
        BiRealNetFactory,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        lab_blocks=lab_blocks,
        input_quantizer=input_quantizer,
    )


def LabBNN(
    *,
    input_shape: Optional[Sequence[int]] = None,
    num_classes: int = 1000,
    include_top: bool = True,
    lab_blocks: Optional[Sequence[bool]] = None,
    input_quantizer: Optional[str] = None,
) -> tf.keras.Model:
    """LabBNN (ImageNet 62.4 % top-1 in the LAB paper); LAB in every stage by default."""
    return build_model(
        LabBNNFactory,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        lab_blocks=lab_blocks,
        input_quantizer=input_quantizer,
    )
