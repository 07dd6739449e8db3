"""How close each sample comes to a sign tie, for Keras-vs-LCE parity tests.

Keras and LCE round floats differently (~1e-7 relative); a pre-sign value within that
of a threshold may flip, and with 10^5 signs per image some do. Parity tests compare
on samples whose every pre-sign value clears a margin; flips are a parity report's
business, not hidden in a tolerance.
"""

from lab_bnn.layers import BatchNormSign, MultiSliceSign, ThresholdSign, slice_offsets
from lab_bnn.quantizers import LAB

import numpy as np
import tensorflow as tf


def _pre_sign_values(layer, features):
    """value − threshold of every sign the layer takes, as arrays of shape (N, ...)."""
    if isinstance(layer, BatchNormSign):
        values, slices = layer.batch_norm(features, training=False).numpy(), layer.slices
    elif isinstance(layer, MultiSliceSign):
        values, slices = features.numpy(), layer.slices
    elif isinstance(layer, ThresholdSign):
        x = features.numpy()[..., None, :]  # (N, H, W, 1, C) against (k, C) thresholds
        return [x - layer.thresholds.numpy()]
    else:  # a larq layer whose input quantizer is LAB
        return [layer.input_quantizer.difference(features).numpy()]
    return [values + b for b in slice_offsets(slices)]


def _pre_sign_distance(layer, features, relative=False):
    """|value − threshold| of every sign the layer takes, minimum per sample; with
    `relative`, divided by the sample's largest |value − threshold| in the layer."""
    values = _pre_sign_values(layer, features)
    per_sample = [tuple(range(1, v.ndim)) for v in values]
    distance = np.min([np.abs(v).min(axis=a) for v, a in zip(values, per_sample)], axis=0)
    if relative:
        scale = np.max([np.abs(v).max(axis=a) for v, a in zip(values, per_sample)], axis=0)
        distance = distance / np.maximum(scale, np.finfo(np.float32).tiny)
    return distance


def sign_sites(model):
    return [
        l
        for l in model.layers
        if isinstance(l, (BatchNormSign, MultiSliceSign, ThresholdSign))
        or isinstance(getattr(l, "input_quantizer", None), LAB)
    ]


def tie_margins(model, samples, relative=False):
    """Per sample, the smallest distance of any pre-sign value to its threshold (with
    `relative`, as a fraction of the largest |value − threshold| in the same layer)."""
    sites = sign_sites(model)
    probe = tf.keras.Model(model.inputs, [l.input for l in sites])
    features = probe(samples, training=False)
    features = features if isinstance(features, (list, tuple)) else [features]
    closest = np.full(len(samples), np.inf)
    for layer, f in zip(sites, features):
        closest = np.minimum(closest, _pre_sign_distance(layer, f, relative))
    return closest


def tie_free_samples(model, candidates, margin=1e-5, relative=False):
    """The candidates whose every pre-sign value is farther than `margin` from its
    threshold (with `relative`, farther than `margin` times the layer's largest
    |value − threshold|: Keras and LCE differ by ~1e-6 of that, measured)."""
    return candidates[tie_margins(model, candidates, relative) > margin]


# A wrong conversion flips about half the signs of the first binary layer it gets wrong.
FIRST_FLIP_RATE_BOUND = 0.01


def assert_faithful_up_to_rounding(
    sign_flip_rates, flip_free_samples, max_abs_diff_flip_free, tolerance, context=None
):
    """Keras and LCE agree, whatever the CPU's rounding at sign thresholds.

    A value within float rounding of a threshold may flip (how many depends on the CPU)
    and its sample's later layers then flip in cascade. So only the first layer that
    flips, in call order (never a consequence of another), is bounded, and outputs are
    compared on the samples where nothing flipped.
    """
    rates = [rate for rate in sign_flip_rates.values() if rate > 0]
    assert not rates or rates[0] <= FIRST_FLIP_RATE_BOUND, (context, sign_flip_rates)
    if flip_free_samples:
        assert max_abs_diff_flip_free <= tolerance, (context, max_abs_diff_flip_free)
