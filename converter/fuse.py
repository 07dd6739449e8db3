"""Swap every layer or quantizer that offers an inference form for that form."""

from typing import List, Sequence, Tuple

from lab_bnn import has_inference_form
from lab_bnn.errors import UserError

import tensorflow as tf

# Attributes through which larq layers hold their quantizers.
QUANTIZER_ATTRIBUTES = (
    "input_quantizer",
    "kernel_quantizer",
    "depthwise_quantizer",
    "pointwise_quantizer",
)


def fuse_for_inference(model: tf.keras.Model) -> tf.keras.Model:
    """A new model with the same inference function and cheaper deploy-time ops.

    Every layer, and every quantizer held by a layer, that defines `inference_form()`
    is replaced by what that returns (e.g. LAB → one depthwise conv + sign). All other
    weights are copied, so the returned model is independent of `model`, which is left
    unchanged. Nested functional/Sequential models are fused recursively.

    Raises:
        UserError: for a subclassed model, whose graph cannot be rebuilt.

    Example:
        >>> fused = fuse_for_inference(model)
        >>> np.testing.assert_array_equal(fused(x), model(x, training=False))
    """
    if not isinstance(model, tf.keras.Model):
        raise UserError(f"fuse_for_inference takes a tf.keras.Model; received {type(model).__name__}")
    if not (model._is_graph_network or isinstance(model, tf.keras.Sequential)):
        raise UserError(
            f"fuse_for_inference needs a functional or Sequential model; received the "
            f"subclassed model {type(model).__name__}, whose graph cannot be rebuilt"
        )
    copied: List[Tuple[tf.keras.layers.Layer, tf.keras.layers.Layer, Sequence[str]]] = []

    def clone_layer(layer: tf.keras.layers.Layer) -> tf.keras.layers.Layer:
        if isinstance(layer, tf.keras.Model):
            return fuse_for_inference(layer)
        if has_inference_form(layer):
            return layer.inference_form()
        clone = layer.__class__.from_config(layer.get_config())
        swapped = []
        for attribute in QUANTIZER_ATTRIBUTES:
            quantizer = getattr(layer, attribute, None)
            if has_inference_form(quantizer):
                setattr(clone, attribute, quantizer.inference_form())
                swapped.append(attribute)
        copied.append((layer, clone, swapped))
        return clone

    fused = tf.keras.models.clone_model(model, clone_function=clone_layer)
    for original, clone, swapped in copied:
        sources = _weights_outside(original, swapped)
        targets = _weights_outside(clone, swapped)
        if len(sources) != len(targets):
            raise RuntimeError(
                f"layer {original.name}: {len(sources)} weights to copy but its clone has {len(targets)}"
            )
        for source, target in zip(sources, targets):
            target.assign(source)
    return fused


def _weights_outside(layer: tf.keras.layers.Layer, attributes: Sequence[str]) -> list:
    """The layer's weights except those of the quantizers held at `attributes`."""
    excluded = {id(w) for name in attributes for w in getattr(layer, name).weights}
    return [w for w in layer.weights if id(w) not in excluded]
