"""The inference-form protocol shared by binarizers and layers.

A Keras layer (or larq quantizer) that has a cheaper deploy-time equivalent defines
`inference_form(self) -> tf.keras.layers.Layer`, returning a new, already built layer
that computes the same forward function for inference. `converter.fuse_for_inference`
swaps every such object for its inference form before conversion.
"""

from typing import Any


def has_inference_form(obj: Any) -> bool:
    """True if `obj` offers a deploy-time replacement via `inference_form()`."""
    return callable(getattr(obj, "inference_form", None))
