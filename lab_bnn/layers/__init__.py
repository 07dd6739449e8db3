"""lab-bnn layers for binarizers whose maths needs a layer (a scale shaped by the
output, a per-channel activation), registered like the binarizers."""

from lab_bnn.layers.base import LAYERS, register_layer
from lab_bnn.layers.batch_norm_sign import BatchNormSign, ThresholdSign
from lab_bnn.layers.local_adaptive_shift import LocalAdaptiveShift
from lab_bnn.layers.logic_shortcuts import LogicOr, LogicXnor
from lab_bnn.layers.multi_slice import MultiSliceBinaryConv2D, MultiSliceSign, slice_offsets
from lab_bnn.layers.react_net import RPReLU
from lab_bnn.layers.recu import ReCUConv2D
from lab_bnn.layers.xnor_plus_plus import XnorPlusPlusConv2D

__all__ = [
    "LAYERS",
    "BatchNormSign",
    "LocalAdaptiveShift",
    "LogicOr",
    "LogicXnor",
    "MultiSliceBinaryConv2D",
    "MultiSliceSign",
    "RPReLU",
    "ReCUConv2D",
    "ThresholdSign",
    "XnorPlusPlusConv2D",
    "register_layer",
    "slice_offsets",
]
