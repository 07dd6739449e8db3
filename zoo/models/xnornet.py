"""XNOR-Net (Rastegari et al., ECCV 2016, arXiv 1603.05279) as larq-zoo's
`literature.XNORNet`, buildable at small inputs, with per-conv LAB placement."""

from typing import Dict, Optional, Sequence

import larq as lq
import tensorflow as tf
from larq_zoo.literature.xnornet import xnor_weight_scale
from zookeeper import Field, factory

from zoo.models.factory import ZooModelFactory, build_model

WEIGHT_DECAY = 5e-7  # larq-zoo's L2 on every conv and the classifier


@lq.utils.register_keras_custom_object  # larq looks quantizers up by class name
class XnorWeightScale(lq.quantizers.Quantizer):
    """larq-zoo's `xnor_weight_scale` as a quantizer with a config: mean|W| per output
    filter × ste_sign(W), W clipped to [−1, 1], gradients through both factors.

    The plain function is stored in `.h5` by name only and cannot be loaded back.
    """

    precision = 1

    def call(self, inputs):
        return xnor_weight_scale(inputs)


def weight_decay() -> tf.keras.regularizers.Regularizer:
    return tf.keras.regularizers.l2(WEIGHT_DECAY)


def batch_norm(epsilon: float = 1e-4) -> tf.keras.layers.Layer:
    return tf.keras.layers.BatchNormalization(momentum=0.9, scale=False, epsilon=epsilon)


@factory
class XNORNetFactory(ZooModelFactory):
    """AlexNet-style XNOR-Net: float 11×11 s4 stem, binary convs 5×5, 3×3, 3×3, 3×3
    (the 4 stages of `lab_blocks`), then fc6 and fc7 as binary convs. Weights are
    larq-zoo's `xnor_weight_scale` (mean|W| per filter × sign) as `XnorWeightScale`.

    fc6's kernel is the whole remaining map — 6×6 at 224², as larq-zoo, and 1×1 at 64²,
    where larq-zoo's fixed 6×6 cannot run. fc6 and fc7 keep `input_quantizer`: they see
    a 1×1 map, where LAB's depthwise window has no neighbours to look at.
    """

    model_name = "XNORNet"
    # Three 3×3 stride-2 "valid" max-pools after the stride-4 stem leave no map below 57².
    min_input_size = 57
    input_quantizer: str = Field("ste_sign")
    field_help: Dict[str, str] = {
        "input_quantizer": "activation binarizer of conv2-conv5 without LAB and of fc6, fc7: a "
        "larq or lab-bnn alias (ste_sign, approx_sign, xnor_activation, ...)",
    }

    def binary_conv(self, filters: int, kernel_size, binarizer: str, padding: str = "same"):
        return lq.layers.QuantConv2D(
            filters,
            kernel_size,
            padding=padding,
            input_quantizer=binarizer,
            kernel_quantizer=XnorWeightScale(),
            kernel_constraint="weight_clip",
            use_bias=False,
            kernel_regularizer=weight_decay(),
        )

    def build(self) -> tf.keras.Model:
        conv2, conv3, conv4, conv5 = self.stage_binarizers(default=self.input_quantizer)
        inputs = self.image_input()
        x = tf.keras.layers.Conv2D(
            96, 11, strides=4, padding="same", use_bias=False, kernel_regularizer=weight_decay()
        )(inputs)
        x = batch_norm(epsilon=1e-5)(x)
        x = tf.keras.layers.Activation("relu")(x)
        x = tf.keras.layers.MaxPool2D(3, strides=2)(x)
        x = batch_norm()(x)
        x = self.binary_conv(256, 5, conv2)(x)
        x = tf.keras.layers.MaxPool2D(3, strides=2)(x)
        x = batch_norm()(x)
        x = batch_norm()(self.binary_conv(384, 3, conv3)(x))
        x = batch_norm()(self.binary_conv(384, 3, conv4)(x))
        x = self.binary_conv(256, 3, conv5)(x)
        x = tf.keras.layers.MaxPool2D(3, strides=2)(x)
        x = batch_norm()(x)
        x = self.binary_conv(4096, tuple(x.shape[1:3]), self.input_quantizer, padding="valid")(x)
        x = batch_norm()(x)
        if self.include_top:
            x = self.binary_conv(4096, 1, self.input_quantizer, padding="valid")(x)
            x = batch_norm(epsilon=1e-3)(x)
            x = tf.keras.layers.Activation("relu")(x)
            x = tf.keras.layers.Flatten()(x)
            x = tf.keras.layers.Dense(self.num_classes, use_bias=False, kernel_regularizer=weight_decay())(x)
            x = tf.keras.layers.Activation("softmax", dtype="float32")(x)
        return tf.keras.Model(inputs, x, name=self.model_name.lower())


def XNORNet(
    *,
    input_shape: Optional[Sequence[int]] = None,
    num_classes: int = 1000,
    include_top: bool = True,
    lab_blocks: Optional[Sequence[bool]] = None,
    input_quantizer: Optional[str] = None,
) -> tf.keras.Model:
    """XNOR-Net; `lab_blocks=(True,) * 4` puts LAB before conv2–conv5 (LAB paper:
    ImageNet top-1 44.0 % → 46.5 %).

    Needs inputs of at least 57×57, the smallest that leaves a map after the third
    max-pool.

    Raises:
        UserError: for an input under 57×57, or a lab_blocks without one boolean per
            binary spatial conv.

    Example:
        >>> XNORNet(input_shape=(64, 64, 3), num_classes=10, lab_blocks=(True,) * 4)
    """
    return build_model(
        XNORNetFactory,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        lab_blocks=lab_blocks,
        input_quantizer=input_quantizer,
    )
