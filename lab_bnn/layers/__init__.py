"""lab-bnn layers for binarizers whose maths needs a layer (a scale shaped by the
output, a per-channel activation), registered like the binarizers."""

from lab_bnn.layers.base import LAYERS, register_layer
from lab_bnn.layers.react_net import RPReLU
from lab_bnn.layers.recu import ReCUConv2D
from lab_bnn.layers.xnor_plus_plus import XnorPlusPlusConv2D

__all__ = ["LAYERS", "RPReLU", "ReCUConv2D", "XnorPlusPlusConv2D", "register_layer"]
