"""BoolNet and BaseNet (Guo et al., arXiv 2106.06991): ResNet-18 layout with a binary
data path — multi-slice signs, grouped binary convs, XNOR/OR logic shortcuts."""

from typing import Dict, Optional, Sequence

from lab_bnn.errors import UserError
from lab_bnn.layers import (
    BatchNormSign,
    LocalAdaptiveShift,
    LogicOr,
    LogicXnor,
    MultiSliceBinaryConv2D,
    MultiSliceSign,
)
from lab_bnn.layers.batch_norm_sign import BOOLNET_EPSILON, BOOLNET_MOMENTUM

import larq as lq
import numpy as np
import tensorflow as tf
from zookeeper import Field, factory

from zoo.models.factory import ZooModelFactory, build_model

WIDTHS = (64, 128, 256, 512)
PADDING_MODES = ("replicate", "one")  # MultiSliceBinaryConv2D's
BLOCKS_PER_STAGE = (2, 2, 2, 2)


def split_slices(x: tf.Tensor, slices: int) -> tf.Tensor:
    """(N, H, W, k·C) → (N, H, W, k, C): the slice structure as its own axis.

    Keras' own Reshape (the map size is static), so a saved model needs no custom layer.
    """
    return tf.keras.layers.Reshape((*x.shape[1:3], slices, x.shape[-1] // slices))(x)


def merge_slices(x: tf.Tensor) -> tf.Tensor:
    """(N, H, W, k, C, ...) → (N, H, W, k·C·...), row-major as the split."""
    return tf.keras.layers.Reshape((*x.shape[1:3], int(np.prod(x.shape[3:]))))(x)


@factory
class BoolNetFactory(ZooModelFactory):
    """BoolNet: ResNet-18 stages [2, 2, 2, 2], widths 64/128/256/512, k slices."""

    model_name = "BoolNet"

    k: int = Field(4)
    feature_reuse: bool = Field(True)
    local_adaptive_shift: bool = Field(True)
    dilated_last_stage: bool = Field(False)
    padding_mode: str = Field("replicate")
    # Every BatchNorm's; BoolNet's code has PyTorch's ε = 1e-5 and momentum 0.1 (Keras' 0.9).
    bn_epsilon: float = Field(BOOLNET_EPSILON)
    bn_momentum: float = Field(BOOLNET_MOMENTUM)
    field_help: Dict[str, str] = {
        "k": "slices of every multi-slice sign (binary maps per activation) and groups of "
        "every binary conv: 1 or a positive even integer",
        "feature_reuse": "True: stride-1 blocks process half of every slice and concatenate "
        "the other half back, with a channel shuffle; False: whole blocks",
        "local_adaptive_shift": "True: a learned per-pixel shift (depthwise 3×3 and BNs) before "
        "the stem's sign; False: a plain BatchNorm",
        "dilated_last_stage": "True: the last stage keeps its resolution (stride 1, dilation 2, "
        "BoolNet*); False: stride 2",
        "padding_mode": "how binary 3×3 convs pad: replicate (edges repeat, the paper) or "
        "one (+1 padding, fully binary)",
        "bn_epsilon": "epsilon of every BatchNorm, a positive float (BoolNet's code: 1e-5)",
        "bn_momentum": "momentum of every BatchNorm in Keras' convention (share of the old "
        "statistics kept), in [0, 1) (BoolNet's code: 0.9)",
    }

    def check_fields(self) -> None:
        """ZooModelFactory's checks, then k and padding_mode (before any layer is built).

        Raises:
            UserError: naming the field, the value and what is allowed.
        """
        super().check_fields()
        if (
            not isinstance(self.k, int)
            or isinstance(self.k, bool)
            or self.k < 1
            or (self.k > 1 and self.k % 2)
        ):
            raise UserError(
                f"{self.model_name} k: slices must be 1 or a positive even integer (1, 2, 4, ...); "
                f"received {self.k!r}"
            )
        if self.padding_mode not in PADDING_MODES:
            raise UserError(
                f"{self.model_name} padding_mode must be one of {', '.join(PADDING_MODES)}; "
                f"received {self.padding_mode!r}"
            )

    def batch_norm(self) -> tf.keras.layers.BatchNormalization:
        return tf.keras.layers.BatchNormalization(momentum=self.bn_momentum, epsilon=self.bn_epsilon)

    def sign(self, binarizer: str):
        """BN + multi-slice sign; BN-fused (threshold) form when the sign is plain."""
        if binarizer == "ste_sign":
            return BatchNormSign(self.k, momentum=self.bn_momentum, epsilon=self.bn_epsilon)
        return lambda x: MultiSliceSign(self.k, binarizer)(self.batch_norm()(x))

    def conv(self, filters, kernel_size=3, strides=1, dilation=1, slices=None):
        return MultiSliceBinaryConv2D(
            filters,
            kernel_size,
            slices=slices or self.k,
            strides=strides,
            dilation_rate=dilation,
            padding_mode=self.padding_mode,
        )

    def downsample(self, x, filters, stride, binarizer):
        """Binary 1×1 conv (one group) → MaxPool 2 → BN → multi-slice sign."""
        x = lq.layers.QuantConv2D(
            filters,
            1,
            input_quantizer="ste_sign",
            kernel_quantizer="progressive_sign",
            kernel_constraint="weight_clip",
            use_bias=False,
        )(x)
        if stride > 1:
            # "same" rounds up as the stride-2 conv beside it does; "valid" left an odd map
            # one pixel short, so the logic shortcut failed or silently broadcast a 1×1.
            x = tf.keras.layers.MaxPool2D(stride, padding="same")(x)
        return self.sign(binarizer)(x)

    def body(self, x, filters, stride, dilation, binarizer):
        residual = x
        if stride > 1 or x.shape[-1] != self.k * filters:
            residual = self.downsample(x, filters, stride, binarizer)
        y = self.sign(binarizer)(self.conv(filters, strides=stride, dilation=dilation)(x))
        y = LogicXnor()([y, residual])
        z = self.sign(binarizer)(self.conv(filters, dilation=dilation)(y))
        return LogicOr()([z, residual])

    def block(self, x, filters, stride, dilation, binarizer):
        if not (self.feature_reuse and stride == 1 and x.shape[-1] == self.k * filters):
            return self.body(x, filters, stride, dilation, binarizer)
        # Feature reuse: half of every slice goes through the block, half is concatenated
        # back, and the channels are shuffled (interleaved) so the halves mix next time.
        half = filters // 2
        sliced = split_slices(x, self.k)
        kept = sliced[..., half:]
        y = split_slices(self.body(merge_slices(sliced[..., :half]), half, 1, dilation, binarizer), self.k)
        return merge_slices(tf.stack([y, kept], axis=-1))

    def build(self) -> tf.keras.Model:
        binarizers = self.stage_binarizers(default="ste_sign")
        inputs = self.image_input()
        x = tf.keras.layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False)(inputs)
        x = self.batch_norm()(x)
        x = tf.keras.layers.MaxPool2D(3, strides=2, padding="same")(x)
        if self.local_adaptive_shift:
            x = LocalAdaptiveShift(epsilon=self.bn_epsilon, momentum=self.bn_momentum)(x)
        else:
            x = self.batch_norm()(x)
        x = MultiSliceSign(self.k)(x)
        for stage, (width, blocks) in enumerate(zip(WIDTHS, BLOCKS_PER_STAGE)):
            last = stage == len(WIDTHS) - 1
            dilation = 2 if last and self.dilated_last_stage else 1
            for block in range(blocks):
                stride = 2 if block == 0 and stage > 0 and dilation == 1 else 1
                x = self.block(x, width, stride, dilation, binarizers[stage])
        if self.include_top:
            # Leave the binary path: average the k slices, then BN, PReLU (as the paper).
            x = tf.reduce_mean(split_slices(x, self.k), axis=-2)
            x = self.batch_norm()(x)
            x = tf.keras.layers.PReLU(shared_axes=[1, 2])(x)
            x = tf.keras.layers.GlobalAveragePooling2D()(x)
            x = tf.keras.layers.Dense(self.num_classes)(x)
            x = tf.keras.layers.Activation("softmax", dtype="float32")(x)
        return tf.keras.Model(inputs, x, name=self.model_name.lower().replace("*", "_star"))


@factory
class BaseNetFactory(BoolNetFactory):
    """BaseNet: BoolNet without feature reuse/shuffle and local adaptive shifting."""

    model_name = "BaseNet"
    k: int = Field(1)
    feature_reuse: bool = Field(False)
    local_adaptive_shift: bool = Field(False)


@factory
class BoolNetStarFactory(BoolNetFactory):
    """BoolNet*: BoolNet with a dilated (stride-1, dilation-2) last stage."""

    model_name = "BoolNet*"
    dilated_last_stage: bool = Field(True)


def BoolNet(
    *,
    input_shape: Optional[Sequence[int]] = None,
    num_classes: int = 1000,
    include_top: bool = True,
    k: int = 4,
    lab_blocks: Optional[Sequence[bool]] = None,
    padding_mode: str = "replicate",
) -> tf.keras.Model:
    """BoolNet (k slices, feature reuse, local adaptive shifting).

    Example:
        >>> model = BoolNet(input_shape=(64, 64, 3), num_classes=10, k=4)

    Raises:
        UserError: bad k, lab_blocks, num_classes or input_shape, each named with what
            is allowed.
    """
    return build_model(
        BoolNetFactory,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        k=k,
        lab_blocks=lab_blocks,
        padding_mode=padding_mode,
    )


def BoolNetStar(
    *,
    input_shape=None,
    num_classes: int = 1000,
    include_top: bool = True,
    k: int = 4,
    lab_blocks=None,
    padding_mode: str = "replicate",
) -> tf.keras.Model:
    """BoolNet* : BoolNet with a dilated last stage."""
    return build_model(
        BoolNetStarFactory,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        k=k,
        lab_blocks=lab_blocks,
        padding_mode=padding_mode,
    )


def BaseNet(
    *,
    input_shape=None,
    num_classes: int = 1000,
    include_top: bool = True,
    k: int = 1,
    lab_blocks=None,
    padding_mode: str = "replicate",
) -> tf.keras.Model:
    """BaseNet: the logic-shortcut ResNet-18 without BoolNet's feature reuse."""
    return build_model(
        BaseNetFactory,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        k=k,
        lab_blocks=lab_blocks,
        padding_mode=padding_mode,
    )
