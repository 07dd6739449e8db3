"""lab-bnn binarizers, registered under snake_case aliases for larq and Keras.

>>> import lab_bnn
>>> lab_bnn.quantizers.get("lab")
>>> larq.layers.QuantConv2D(64, 3, input_quantizer="lab")
"""

from typing import Any, List

from lab_bnn.errors import UserError
from lab_bnn.quantizers import bi_real, bnn  # noqa: F401  (larq's classes, our aliases)
from lab_bnn.quantizers.base import BINARIZERS, BinarizerBase, register_binarizer
from lab_bnn.quantizers.depthwise_sign import DepthwiseSign
from lab_bnn.quantizers.fda import FdaSign, FdaWeight
from lab_bnn.quantizers.lab import LAB, lab_binarize
from lab_bnn.quantizers.niblack import Niblack
from lab_bnn.quantizers.progressive_sign import ProgressiveSign
from lab_bnn.quantizers.react_net import RSign
from lab_bnn.quantizers.recu import ReCUActivation, ReCUWeight
from lab_bnn.quantizers.sauvola import Sauvola
from lab_bnn.quantizers.scaled_sign import ScaledSign
from lab_bnn.quantizers.xnor_net import XnorActivation

import larq as lq

# larq's own aliases stay usable through `get`.
LARQ_ALIASES = (
    "approx_sign",
    "dorefa_quantizer",
    "magnitude_aware_sign",
    "ste_heaviside",
    "ste_sign",
    "ste_tern",
    "swish_sign",
)


def available() -> List[str]:
    """Aliases of lab-bnn's registered binarizers."""
    return BINARIZERS.available()


def get(identifier: Any):
    """A binarizer instance from an alias, a config dict, an instance or a callable.

    Raises:
        UserError: for an alias that neither lab-bnn nor larq knows, naming both lists.
    """
    if isinstance(identifier, str) and identifier not in BINARIZERS.classes():
        if identifier not in LARQ_ALIASES:
            raise UserError(
                f"unknown binarizer alias {identifier!r}; lab-bnn has "
                f"{', '.join(available())} and larq has {', '.join(LARQ_ALIASES)}"
            )
    return lq.quantizers.get(identifier)


__all__ = [
    "BINARIZERS",
    "BinarizerBase",
    "DepthwiseSign",
    "FdaSign",
    "FdaWeight",
    "LAB",
    "LARQ_ALIASES",
    "Niblack",
    "ProgressiveSign",
    "RSign",
    "ReCUActivation",
    "ReCUWeight",
    "Sauvola",
    "ScaledSign",
    "XnorActivation",
    "available",
    "get",
    "lab_binarize",
    "register_binarizer",
]
