"""QuickNet (Bannink et al., MLSys 2021, arXiv 2011.09398; larq-zoo's `sota.QuickNet`)
with per-section LAB placement (Falkena et al., WACV 2023)."""

from typing import Dict, Optional, Sequence

from lab_bnn.errors import UserError

import larq as lq
import numpy as np
import tensorflow as tf
from larq_zoo.sota import quicknet as larq_zoo_quicknet
from zookeeper import ComponentField, Field, factory

from zoo.datasets.base import ZooDataset
from zoo.models.factory import ZooModelFactory, build_model


@lq.utils.register_keras_custom_object  # .h5 configs name it by bare class name
class BlurPoolInitializer(tf.keras.initializers.Initializer):
    """The fixed anti-aliasing kernel of a depthwise blur pool (Zhang, ICML 2019): the
    outer product of a binomial row, normalised to sum 1, for every channel.

    larq-zoo's `blurpool_initializer` computes the same kernel as a plain function,
    which `.h5` stores by name only and cannot load back; this class has a config.

    Raises:
        ValueError: for a kernel size other than 2, 3 or 5 (a bug in the model, not input).
    """

    ROWS = {2: (1, 1), 3: (1, 2, 1), 5: (1, 4, 6, 4, 1)}

    def __call__(self, shape, dtype=None, **kwargs):
        size, channels = shape[0], shape[2]
        if size not in self.ROWS or tuple(shape) != (size, size, channels, 1):
            raise ValueError(
                f"blur pool kernels are (k, k, channels, 1) with k in 2, 3, 5; received {tuple(shape)}"
            )
        row = np.array(self.ROWS[size], np.float64)
        kernel = np.outer(row, row) / row.sum() ** 2
        return tf.constant(np.repeat(kernel[:, :, None, None], channels, axis=2), dtype=dtype or tf.float32)

    def get_config(self):
        return {}


@factory
class QuickNetFactory(ZooModelFactory, larq_zoo_quicknet.QuickNetFactory):
    """larq-zoo's QuickNet — stem, residual blocks and top are larq-zoo's own code, the
    blur-pool transitions its layers with a loadable initializer — with the binarizer
    of each section's residual blocks chosen by `lab_blocks` (4 sections of widths
    64/128/256/512). Needs inputs of at least 29×29.

    `sign_quantizer` binarizes the sections without LAB; None keeps larq-zoo's
    `SteSign(clip_value=1.25)`.
    """

    model_name = "QuickNet"
    # Each transition max-pools (2, stride 1, "valid"): one pixel lost before halving, so
    # the third needs the stem's ⌈H/4⌉ ≥ 8.
    min_input_size = 29
    # Not `input_quantizer`: that name is larq-zoo's per-block hook, overridden below.
    sign_quantizer: Optional[str] = Field(None)
    # larq-zoo's field is typed `zookeeper.tf.Dataset` and, having no default, takes the
    # parent task's `dataset` (a ZooDataset), which then fails zookeeper's type check.
    # Nothing here reads it (num_classes is a plain Field in ZooModelFactory).
    dataset: Optional[ZooDataset] = ComponentField(allow_missing=True)
    field_help: Dict[str, str] = {
        "section_blocks": "residual blocks in each of the 4 sections: 4 positive integers",
        "section_filters": "width of each of the 4 sections: 4 distinct positive integers, "
        "the first a multiple of 4",
        "sign_quantizer": "activation binarizer of the sections without LAB: a larq or "
        "lab-bnn alias (ste_sign, approx_sign, ...); None keeps larq-zoo's SteSign(clip_value=1.25)",
    }

    def check_fields(self) -> None:
        """ZooModelFactory's checks, then: section_blocks and section_filters describe 4
        sections this factory can build (it finds a block's section by its width, so
        widths differ). ZooModelFactory's `__post_configure__`, before larq-zoo's in the
        MRO, runs this in place of larq-zoo's bare `assert`.

        Raises:
            UserError: naming the field, the value and what is allowed.
        """
        super().check_fields()
        blocks, filters = _as_tuple(self.section_blocks), _as_tuple(self.section_filters)
        if len(blocks) != self.stages or not all(_positive_int(b) for b in blocks):
            raise UserError(
                f"QuickNet section_blocks must be {self.stages} positive integers; received {blocks!r}"
            )
        if (
            len(filters) != self.stages
            or not all(_positive_int(f) for f in filters)
            or len(set(filters)) != len(filters)
            or filters[0] % 4
        ):
            raise UserError(
                f"QuickNet section_filters must be {self.stages} distinct positive integers, the "
                f"first a multiple of 4 (the stem's width / 4); received {filters!r}"
            )

    def build(self) -> tf.keras.Model:
        self.check_fields()  # an unconfigured factory (the keyword builder) skips post-configure
        return super().build()

    @property
    def image_input(self) -> tf.Tensor:
        # larq-zoo's build reads one input tensor from this property; ours validates.
        if not hasattr(self, "_image_input"):
            self._image_input = super().image_input()
        return self._image_input

    def residual_block(self, x: tf.Tensor) -> tf.Tensor:
        # Every section has its own width, so the block's input names its section.
        self._section = list(self.section_filters).index(x.shape[-1])
        return super().residual_block(x)

    def transition_block(self, x: tf.Tensor, filters: int, strides: int) -> tf.Tensor:
        """larq-zoo's transition block, with a blur-pool initializer that `.h5` can load."""
        x = tf.keras.layers.Activation("relu")(x)
        x = tf.keras.layers.MaxPool2D(pool_size=strides, strides=1)(x)
        x = tf.keras.layers.DepthwiseConv2D(
            (3, 3),
            depthwise_initializer=BlurPoolInitializer(),
            padding="same",
            strides=strides,
            trainable=False,
            use_bias=False,
        )(x)
        x = lq.layers.QuantConv2D(filters, (1, 1), kernel_initializer="glorot_normal", use_bias=False)(x)
        return tf.keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)

    @property
    def input_quantizer(self):
        """The binarizer of the section whose residual block is being built."""
        default = self.sign_quantizer or super().input_quantizer
        return self.stage_binarizers(default=default)[self._section]


def _as_tuple(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _positive_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value > 0


def QuickNet(
    *,
    input_shape: Optional[Sequence[int]] = None,
    num_classes: int = 1000,
    include_top: bool = True,
    lab_blocks: Optional[Sequence[bool]] = None,
    input_quantizer: Optional[str] = None,
) -> tf.keras.Model:
    """QuickNet; `lab_blocks=(True,) * 4` puts LAB in every section (LAB paper: ImageNet
    top-1 58.7 % → 62.5 %).

    Arguments:
        input_quantizer: binarizer alias of the sections without LAB; None keeps
            larq-zoo's `SteSign(clip_value=1.25)`.

    Raises:
        UserError: for an input under 29×29, or a lab_blocks without one boolean per
            section.

    Example:
        >>> QuickNet(input_shape=(32, 32, 3), num_classes=10, lab_blocks=(False, True, True, True))
    """
    return build_model(
        QuickNetFactory,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        lab_blocks=lab_blocks,
        sign_quantizer=input_quantizer,
    )
