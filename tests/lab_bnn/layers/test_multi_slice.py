"""Multi-slice sign and multi-slice binary conv against NumPy, a float Keras conv and a
NumPy transcription of BoolNet's official GhostSign and MultiBConv."""

from lab_bnn.errors import UserError
from lab_bnn.layers import MultiSliceBinaryConv2D, MultiSliceSign, slice_offsets

import numpy as np
import pytest
import tensorflow as tf

import numpy_official_boolnet as official
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


# --- against BoolNet's official code (numpy_official_boolnet: GhostSign, MultiBConv) ---


def assert_close(actual, expected):
    """1e-5 relative, measured against the largest entry (sums of ±1·w in float32)."""
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def sign_inputs(rng, shape, k):
    """Inputs whose every x + b_s clears both the sign's 0 and the clip-STE's ±1."""
    ties = [t - b for b in official.ghost_sign_offsets(k) for t in (-1.0, 0.0, 1.0)]
    return official.away_from(lambda: rng.uniform(-1.8, 1.8, shape), ties, 1e-3)


def official_weight(rng, shape):
    """Latent weights clear of sign(0) and of the clamp's ±1."""
    return official.away_from(lambda: rng.randn(*shape) * 0.7, [-1.0, 0.0, 1.0], 1e-3)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_offsets_are_ghost_signs(k):
    np.testing.assert_allclose(slice_offsets(k), official.ghost_sign_offsets(k), rtol=1e-15)


@pytest.mark.parametrize("binarizer", ["ste_sign", "boolnet_sign"])
@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("shape", [(1, 3, 1, 1), (3, 5, 4, 2)])
def test_multi_slice_sign_is_ghost_sign_off_ties(rng, binarizer, k, shape):
    x = sign_inputs(rng, shape, k)  # NCHW, as the official code
    expected, backward = official.ghost_sign(x, k)
    upstream = rng.randn(*expected.shape)
    layer = MultiSliceSign(k, binarizer)
    out, (dx,) = forward_and_gradients(layer, official.to_nhwc(x), official.to_nhwc(upstream))
    np.testing.assert_array_equal(out, official.to_nhwc(expected))
    assert_close(dx, official.to_nhwc(backward(upstream)))


@pytest.mark.parametrize("k,tie", [(1, 0.0), (2, 0.5), (2, -0.5)])
def test_an_exact_tie_is_plus_one_by_default_and_zero_with_boolnet_sign(rng, k, tie):
    # Only ties exactly representable in float32 and float64 (k = 4's ±1/3 are not).
    x = sign_inputs(rng, (2, 4, 3, 3), k)
    x[:, :, 1, :] = tie
    expected, backward = official.ghost_sign(x, k)
    assert (expected == 0).any()
    upstream = rng.randn(*expected.shape)
    as_official = MultiSliceSign(k, binarizer="boolnet_sign")
    assert MultiSliceSign.from_config(as_official.get_config()).binarizer == "boolnet_sign"
    out, (dx,) = forward_and_gradients(as_official, official.to_nhwc(x), official.to_nhwc(upstream))
    np.testing.assert_array_equal(out, official.to_nhwc(expected))
    assert_close(dx, official.to_nhwc(backward(upstream)))
    out, (dx,) = forward_and_gradients(MultiSliceSign(k), official.to_nhwc(x), official.to_nhwc(upstream))
    np.testing.assert_array_equal(out, official.to_nhwc(np.where(expected == 0, 1.0, expected)))
    assert_close(dx, official.to_nhwc(backward(upstream)))  # the same clip-STE


@pytest.mark.parametrize("binarizer", [None, "sign_of_x", 3])
def test_unknown_binarizer_is_one_clear_error(binarizer):
    with pytest.raises(
        UserError, match=rf"binarizer must be 'boolnet_sign' or a larq .*received {binarizer!r}$"
    ):
        MultiSliceSign(2, binarizer)


CONV_CASES = [
    # k, channels per slice, batch, height, width, stride, dilation, training, T
    (1, 3, 1, 1, 1, 1, 1, True, 1.0),
    (1, 5, 3, 6, 5, 2, 1, False, 1.0),
    (2, 32, 1, 2, 3, 1, 2, True, 0.5),
    (2, 32, 2, 5, 5, 2, 1, False, 1.0),
    (4, 32, 2, 4, 3, 1, 1, True, 0.3),
    (4, 32, 1, 1, 2, 2, 1, False, 1.0),
    (4, 32, 3, 1, 1, 1, 2, True, 1.0),  # Keras refuses strides > 1 with dilation > 1
]


@pytest.mark.parametrize("k,channels,batch,height,width,stride,dilation,training,temperature", CONV_CASES)
def test_sign_then_conv_is_ghost_sign_then_multi_bconv(
    rng, k, channels, batch, height, width, stride, dilation, training, temperature
):
    filters = 8
    x = sign_inputs(rng, (batch, channels, height, width), k)
    weight = official_weight(rng, (filters, channels, 3, 3))
    slices, sign_backward = official.ghost_sign(x, k)
    expected, conv_backward = official.multi_bconv(
        slices, weight, temperature, training, stride=stride, padding=dilation, dilation=dilation, groups=k
    )
    upstream = rng.randn(*expected.shape)
    grad_slices, grad_weight = conv_backward(upstream)

    sign = MultiSliceSign(k)
    conv = MultiSliceBinaryConv2D(filters, 3, slices=k, strides=stride, dilation_rate=dilation)
    inputs = tf.constant(official.to_nhwc(x), tf.float32)
    conv(sign(inputs))
    conv.kernel.assign(official.kernel_to_keras(weight))
    conv.kernel_quantizer.current_temperature.assign(temperature)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        out = conv(sign(inputs), training=training)
        loss = tf.reduce_sum(out * official.to_nhwc(upstream))
    dx, dkernel = tape.gradient(loss, [inputs, conv.kernel])
    assert_close(out.numpy(), official.to_nhwc(expected))
    assert_close(dx.numpy(), official.to_nhwc(sign_backward(grad_slices)))
    assert_close(official.kernel_from_keras(dkernel.numpy()), grad_weight)


@pytest.mark.parametrize("k", [1, 2])
def test_zero_input_reaches_the_conv_as_zero_only_without_input_quantizer(rng, k):
    channels, filters = (3 if k == 1 else 32), 4
    slices = np.zeros((2, k, channels, 3, 3))  # what boolnet_sign gives a tie in every slice
    weight = official_weight(rng, (filters, channels, 3, 3))
    expected, backward = official.multi_bconv(slices, weight, 1.0, False, groups=k)
    upstream = rng.randn(*expected.shape)
    as_zero = MultiSliceBinaryConv2D(filters, 3, slices=k, input_quantizer=None)
    as_one = MultiSliceBinaryConv2D(filters, 3, slices=k)  # default ste_sign: 0 → +1
    for layer in (as_zero, as_one):
        layer.build((None, 3, 3, k * channels))
        layer.kernel.assign(official.kernel_to_keras(weight))
    out, (dx, dkernel) = forward_and_gradients(as_zero, official.to_nhwc(slices), official.to_nhwc(upstream))
    np.testing.assert_array_equal(out, 0.0)
    grad_slices, grad_weight = backward(upstream)
    assert_close(dx, official.to_nhwc(grad_slices))
    np.testing.assert_array_equal(dkernel, official.kernel_to_keras(grad_weight))  # both 0: the input is 0
    ones, _ = official.multi_bconv(np.ones_like(slices), weight, 1.0, False, groups=k)
    assert_close(as_one(official.to_nhwc(slices).astype(np.float32)).numpy(), official.to_nhwc(ones))


def test_no_weight_clip_by_default_as_official_weight_clip_as_argument():
    layer = MultiSliceBinaryConv2D(64, 3, slices=2)
    assert layer.kernel_constraint is None
    config = MultiSliceBinaryConv2D(64, 3, slices=2, kernel_constraint="weight_clip").get_config()
    assert config["kernel_constraint"]["class_name"] == "weight_clip"
    assert MultiSliceBinaryConv2D.from_config(config).kernel_constraint is not None


def test_boolnet_initializer_is_the_official_kaiming_normal_times_1e_2():
    layer = MultiSliceBinaryConv2D(64, 3, slices=2, kernel_initializer="boolnet")
    layer.build((None, 8, 8, 128))
    kernel = layer.kernel.numpy()
    # kaiming_normal_(mode="fan_out") · 1e-2: std = 1e-2·sqrt(2 / (3·3·64)); 36864 samples.
    np.testing.assert_allclose(kernel.std(), 1e-2 * np.sqrt(2 / (9 * 64)), rtol=0.03)
    assert abs(kernel.mean()) < 0.05 * kernel.std()
    rebuilt = MultiSliceBinaryConv2D.from_config(layer.get_config())
    rebuilt.build((None, 8, 8, 128))
    np.testing.assert_allclose(rebuilt.kernel.numpy().std(), kernel.std(), rtol=0.05)
    default = MultiSliceBinaryConv2D(64, 3, slices=2)
    default.build((None, 8, 8, 128))
    assert np.abs(default.kernel.numpy()).max() > 10 * np.abs(kernel).max()  # glorot_uniform
