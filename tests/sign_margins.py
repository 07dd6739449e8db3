"""How close each sample comes to a sign tie, for Keras-vs-LCE parity tests.

Keras and LCE round floats differently (~1e-7 relative); a pre-sign value within that
of a threshold may flip, and with 10^5 signs per image some do. Parity tests compare
on samples whose every pre-sign value clears a margin; flips are a parity report's
business, not hidden in a tolerance.
"""

import numpy as np
import tensorflow as tf

from lab_bnn.layers import BatchNormSign, MultiSliceSign, ThresholdSign, slice_offsets
from lab_bnn.quantizers import LAB


def _pre_sign_distance(layer, features):
    """|value − threshold| of every sign the layer takes, minimum per sample."""
    if isinstance(layer, BatchNormSign):
        values, slices = layer.batch_norm(features, training=False).numpy(), layer.slices
    elif isinstance(layer, MultiSliceSign):
        values, slices = features.numpy(), layer.slices
    elif isinstance(layer, ThresholdSign):
        x = features.numpy()[..., None, :]  # (N, H, W, 1, C) against (k, C) thresholds
        return np.abs(x - layer.thresholds.numpy()).min(axis=(1, 2, 3, 4))
    else:  # a larq layer whose input quantizer is LAB
        return np.abs(layer.input_quantizer.difference(features).numpy()).min(axis=(1, 2, 3))
    distances = [np.abs(values + b).min(axis=(1, 2, 3)) for b in slice_offsets(slices)]
    return np.min(distances, axis=0)


def sign_sites(model):
    return [l for l in model.layers if isinstance(l, (BatchNormSign, MultiSliceSign, ThresholdSign))
            or isinstance(getattr(l, "input_quantizer", None), LAB)]


def tie_free_samples(model, candidates, margin=1e-5):
    """The candidates whose every pre-sign value is farther than `margin` from its
    threshold."""
    sites = sign_sites(model)
    probe = tf.keras.Model(model.inputs, [l.input for l in sites])
    features = probe(candidates, training=False)
    features = features if isinstance(features, (list, tuple)) else [features]
    closest = np.full(len(candidates), np.inf)
    for layer, f in zip(sites, features):
        closest = np.minimum(closest, _pre_sign_distance(layer, f))
    return candidates[closest > margin]
