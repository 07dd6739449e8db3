"""How each paper binarizes a conv: its activation and weight binarizers, conv layer
and activation, by name. The leaderboard and the docs table read them."""

from dataclasses import dataclass
from typing import Dict, Optional

from lab_bnn.errors import UserError
from lab_bnn.layers import LAYERS

import larq as lq
import tensorflow as tf


@dataclass(frozen=True)
class Recipe:
    """One paper's binary conv: `conv2d(...)` builds it, `activation()` its activation."""

    title: str
    input_quantizer: str
    kernel_quantizer: str
    conv_layer: Optional[str] = None  # a registered layer alias; None = larq QuantConv2D
    activation_layer: Optional[str] = None  # a registered layer placed after the block

    def conv2d(self, filters: int, kernel_size, **kwargs) -> tf.keras.layers.Layer:
        """The paper's binary conv with these binarizers (weight_clip unless given)."""
        kwargs.setdefault("kernel_constraint", "weight_clip")
        layer = LAYERS.lookup(self.conv_layer) if self.conv_layer else lq.layers.QuantConv2D
        return layer(
            filters,
            kernel_size,
            input_quantizer=self.input_quantizer,
            kernel_quantizer=self.kernel_quantizer,
            **kwargs,
        )

    def activation(self) -> Optional[tf.keras.layers.Layer]:
        return LAYERS.lookup(self.activation_layer)() if self.activation_layer else None


RECIPES: Dict[str, Recipe] = {
    "bnn": Recipe("BNN", "bnn", "bnn"),
    "xnor_net": Recipe("XNOR-Net", "xnor_activation", "scaled_sign"),
    "dorefa": Recipe("DoReFa (1-bit)", "bnn", "scaled_sign"),  # BiBench: per-channel α
    "bi_real": Recipe("Bi-Real Net", "bi_real", "scaled_sign"),
    "xnor_plus_plus": Recipe("XNOR-Net++", "bnn", "bnn", conv_layer="xnor_plus_plus_conv2d"),
    "react_net": Recipe("ReActNet", "rsign", "scaled_sign", activation_layer="rprelu"),
    "recu": Recipe("ReCU", "recu_activation", "recu_weight", conv_layer="recu_conv2d"),
    "fda": Recipe("FDA", "fda_sign", "fda_weight"),
    "lab": Recipe("LAB", "lab", "bnn"),
    "niblack": Recipe("Niblack", "niblack", "bnn"),
    "sauvola": Recipe("Sauvola", "sauvola", "bnn"),
}


def get_recipe(name: str) -> Recipe:
    """Raises UserError naming the recipe and the known ones."""
    if name not in RECIPES:
        raise UserError(f"unknown binarization recipe {name!r}; known: {', '.join(RECIPES)}")
    return RECIPES[name]
