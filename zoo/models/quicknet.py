"""QuickNet (Bannink et al., MLSys 2021, arXiv 2011.09398; larq-zoo's `sota.QuickNet`)
with per-section LAB placement (Falkena et al., WACV 2023)."""

from typing import Optional, Sequence

import tensorflow as tf
from larq_zoo.sota import quicknet as larq_zoo_quicknet
from zookeeper import Field, factory

from zoo.models.factory import ZooModelFactory, build_model


@factory
class QuickNetFactory(ZooModelFactory, larq_zoo_quicknet.QuickNetFactory):
    """larq-zoo's QuickNet — stem, blur-pool transitions, residual blocks and top are
    larq-zoo's own code — with the binarizer of each section's residual blocks chosen
    by `lab_blocks` (4 sections of widths 64/128/256/512).

    `sign_quantizer` binarizes the sections without LAB; None keeps larq-zoo's
    `SteSign(clip_value=1.25)`.
    """

    model_name = "QuickNet"
    # Not `input_quantizer`: that name is larq-zoo's per-block hook, overridden below.
    sign_quantizer: Optional[str] = Field(None)

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

    @property
    def input_quantizer(self):
        """The binarizer of the section whose residual block is being built."""
        default = self.sign_quantizer or super().input_quantizer
        return self.stage_binarizers(default=default)[self._section]


def QuickNet(*, input_shape: Optional[Sequence[int]] = None, num_classes: int = 1000,
             include_top: bool = True, lab_blocks: Optional[Sequence[bool]] = None,
             input_quantizer: Optional[str] = None) -> tf.keras.Model:
    """QuickNet; `lab_blocks=(True,) * 4` puts LAB in every section (LAB paper: ImageNet
    top-1 58.7 % → 62.5 %).

    Arguments:
        input_quantizer: binarizer alias of the sections without LAB; None keeps
            larq-zoo's `SteSign(clip_value=1.25)`.

    Raises:
        ValueError: if lab_blocks does not have one boolean per section.

    Example:
        >>> QuickNet(input_shape=(32, 32, 3), num_classes=10, lab_blocks=(False, True, True, True))
    """
    return build_model(QuickNetFactory, input_shape=input_shape, num_classes=num_classes,
                       include_top=include_top, lab_blocks=lab_blocks,
                       sign_quantizer=input_quantizer)
