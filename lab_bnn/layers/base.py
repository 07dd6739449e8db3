"""The registry of lab-bnn layers."""

from lab_bnn.registry import Registry

LAYERS = Registry("layer")
register_layer = LAYERS.register
