"""Which binarized values LCE computes with another sign than Keras, per layer.

A probe copy of the fused model has every binarizing input quantizer, at any depth
(nested models, layers inside layers), wrapped in a tap that keeps its output. The
probe returns all taps flattened into one tensor, in the order Keras ran them; one
output means TFLite cannot reorder them, so each value is matched to its layer by
position, never by shape.
"""

from typing import Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf

from converter.convert import convert
from converter.fuse import fuse_for_inference
from converter.interpreter import run_flatbuffer


def binarizes_input(layer: tf.keras.layers.Layer) -> bool:
    """Whether the layer's input quantizer binarizes (larq precision 1)."""
    quantizer = getattr(layer, "input_quantizer", None)
    return quantizer is not None and getattr(quantizer, "precision", None) == 1


def binarized_inputs(model: tf.keras.Model) -> Dict[str, tf.keras.layers.Layer]:
    """Every layer whose input quantizer binarizes, at any depth, by its path name:
    `conv` at the top, `block/conv` inside the nested model `block`."""
    found: Dict[str, tf.keras.layers.Layer] = {}

    def visit(layers, prefix):
        for layer in layers:
            if binarizes_input(layer):
                found.setdefault(prefix + layer.name, layer)
            if isinstance(layer, tf.keras.Model):
                visit(layer.layers, f"{prefix}{layer.name}/")
            else:  # sublayers held as attributes (submodules lists every depth)
                for sub in layer.submodules:
                    if isinstance(sub, tf.keras.layers.Layer) and binarizes_input(sub):
                        found.setdefault(f"{prefix}{layer.name}/{sub.name}", sub)

    visit(model.layers, "")
    unique, seen = {}, set()
    for name, layer in found.items():  # a layer shared by two paths is probed once
        if id(layer) not in seen:
            seen.add(id(layer))
            unique[name] = layer
    return unique


class _Taps:
    """What the taps saw during one trace: (layer name, output) in call order. A plain
    object, since Keras would wrap a list attribute of a layer for tracking."""

    def __init__(self):
        self.seen: List[Tuple[str, tf.Tensor]] = []
        self.layout: List[Tuple[str, int]] = []


class _SignTap(tf.keras.layers.Layer):
    """An input quantizer that also reports its output (a layer, so the quantizer's
    weights stay tracked by the model that holds it)."""

    def __init__(self, quantizer, key: str, taps: _Taps, **kwargs):
        super().__init__(**kwargs)
        self.quantizer, self.key, self.taps = quantizer, key, taps
        self.precision = getattr(quantizer, "precision", None)

    def call(self, inputs):
        outputs = self.quantizer(inputs)
        self.taps.seen.append((self.key, outputs))
        return outputs


class _SignProbe(tf.keras.layers.Layer):
    """Runs the tapped model; returns every tap's output, flattened per sample and
    concatenated, and records which columns belong to which layer."""

    def __init__(self, tapped: tf.keras.Model, taps: _Taps, **kwargs):
        super().__init__(**kwargs)
        self.tapped, self.taps = tapped, taps

    def call(self, inputs):
        self.taps.seen = []
        self.tapped(inputs, training=False)
        self.taps.layout = [(key, int(np.prod(t.shape[1:]))) for key, t in self.taps.seen]
        return tf.concat(
            [tf.reshape(t, (-1, size)) for (_, t), (_, size) in zip(self.taps.seen, self.taps.layout)], axis=1
        )


def sign_flips(
    model: tf.keras.Model, samples: np.ndarray, kernel_path: Optional[Dict[str, bool]] = None
) -> Tuple[Dict[str, float], np.ndarray]:
    """(flip rate per binarized layer, per-sample mask of samples with any flip).

    One extra conversion: the probe copy of `fuse_for_inference(model)`.
    """
    fused = fuse_for_inference(model)  # a private copy: its quantizers can be tapped
    layers = binarized_inputs(fused)
    flipped = np.zeros(len(samples), bool)
    if not layers:
        return {}, flipped
    taps = _Taps()
    for key, layer in layers.items():
        layer.input_quantizer = _SignTap(layer.input_quantizer, key, taps)
    inputs = tf.keras.Input(fused.input_shape[1:])
    probe = tf.keras.Model(inputs, _SignProbe(fused, taps)(inputs))
    # one sample at a time, as LCE runs it: a batch-wide statistic (Sauvola's R) must not leak
    keras_signs = np.sign(probe.predict(samples, batch_size=1, verbose=0))
    lce_signs = np.sign(run_flatbuffer(convert(probe, fuse=False), samples, kernel_path)[0])
    differs: Dict[str, List[np.ndarray]] = {key: [] for key in layers}
    start = 0
    for key, size in taps.layout:  # a layer called twice has two blocks of columns
        differs[key].append(keras_signs[:, start : start + size] != lce_signs[:, start : start + size])
        start += size
    rates = {}
    for key, blocks in differs.items():
        if blocks:
            both = np.concatenate(blocks, axis=1)
            rates[key] = float(both.mean())
            flipped |= both.any(axis=1)
    return rates, flipped
