"""Multi-slice sign and multi-slice binary conv against NumPy and a float Keras conv."""

from lab_bnn.errors import UserError
from lab_bnn.layers import MultiSliceBinaryConv2D, MultiSliceSign, slice_offsets

import numpy as np
import pytest
import tensorflow as tf

from conftest import forward_and_gradients


@pytest.mark.parametrize("k,offsets", [(1, [0.0]), (2, [-1 / 2, 1 / 2]), (4, [-2 / 3, -1 / 3, 1 / 3, 2 / 3])])
def test_thermometer_offsets(k, offsets):
    np.testing.assert_allclose(slice_offsets(k), offsets)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_slices_are_clip_ste_signs_slice_major(rng, k):
    x, upstream = rng.randn(2, 5, 5, 3) * 0.8, rng.randn(2, 5, 5, 3 * k)
    out, (dx,) = forward_and_gradients(MultiSliceSign(k), x, upstream)
    for s, b in enumerate(slice_offsets(k)):
        np.testing.assert_array_equal(out[..., 3 * s : 3 * (s + 1)], np.where(x + b >= 0, 1.0, -1.0))
    expected = sum(
        upstream[..., 3 * s : 3 * (s + 1)] * (np.abs(x + b) <= 1) for s, b in enumerate(slice_offsets(k))
    )
    np.testing.assert_allclose(dx, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("k", [3, 5, 0, -2, 2.0])
def test_odd_or_non_positive_k_is_one_clear_error(k):
    with pytest.raises(UserError, match=rf"slices must be 1 or a positive even integer.*received {k!r}"):
        MultiSliceSign(k)


def binary_kernel(kernel):
    """sign(W)·mean|W| per output channel (the inference form of progressive_sign)."""
    return np.where(kernel >= 0, 1.0, -1.0) * np.abs(kernel).reshape(-1, kernel.shape[-1]).mean(0)


@pytest.mark.parametrize("padding_mode,pad", [("replicate", "edge"), ("one", "one")])
@pytest.mark.parametrize("strides", [1, 2])
def test_grouped_conv_reads_slice_s_in_group_s(rng, padding_mode, pad, strides):
    k, channels = 2, 64
    x = np.where(rng.randn(2, 7, 7, channels) >= 0, 1.0, -1.0).astype(np.float32)
    layer = MultiSliceBinaryConv2D(8, 3, slices=k, strides=strides, padding_mode=padding_mode)
    out = layer(x, training=False).numpy()
    padded = (
        np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
        if pad == "edge"
        else np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=1.0)
    )
    oracle = tf.keras.layers.Conv2D(8, 3, strides=strides, groups=k, use_bias=False)
    oracle.build(padded.shape)
    oracle.set_weights([binary_kernel(layer.kernel.numpy())])
    # On a 7×7 map SAME pads (1, 1) for strides 1 and 2, like the oracle's padding.
    np.testing.assert_allclose(out, oracle(padded).numpy(), rtol=1e-5, atol=1e-5)


def test_fewer_than_32_channels_per_group_is_one_clear_error():
    with pytest.raises(
        UserError,
        match=r"4 slices needs .* at least 32 channels per group; received 64 channels \(16 per group\)",
    ):
        MultiSliceBinaryConv2D(16, 3, slices=4)(tf.zeros((1, 6, 6, 64)))


def test_unknown_padding_mode_is_one_clear_error():
    with pytest.raises(UserError, match=r"padding_mode must be 'replicate' or 'one'; received 'zero'"):
        MultiSliceBinaryConv2D(16, 3, padding_mode="zero")


@pytest.mark.parametrize(
    "arguments,received",
    [
        ({"groups": 4}, "groups=4"),
        ({"padding": "valid"}, "padding='valid'"),
        ({"pad_values": 0.0}, "pad_values=0.0"),
        ({"groups": 2, "padding": "same"}, "groups=2, padding='same'"),
    ],
)
def test_arguments_set_by_slices_and_padding_mode_are_refused(arguments, received):
    with pytest.raises(
        UserError, match=rf"sets groups from slices .* takes none of them; received {received}$"
    ):
        MultiSliceBinaryConv2D(16, 3, slices=2, **arguments)
