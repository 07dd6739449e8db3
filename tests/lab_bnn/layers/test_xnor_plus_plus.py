"""XNOR-Net++: binary conv ⊙ Γ against a float Keras conv of the signs, and against
BiBench's official XNORPlusPlusConv2d."""

from lab_bnn.errors import UserError
from lab_bnn.layers import XnorPlusPlusConv2D
from lab_bnn.recipes import get_recipe

import numpy as np
import pytest
import tensorflow as tf

import numpy_official_bibench as official
import numpy_reference_bibench as ref
from bibench_conv_cases import (
    CASES,
    assert_close,
    case_id,
    clear_of,
    float32_exact,
    run_conv,
    with_exact_zeros,
)


def test_output_is_float_conv_of_signs_times_gamma(rng):
    layer = XnorPlusPlusConv2D(6, 3, strides=2, padding="same")
    x = rng.randn(2, 9, 7, 4).astype(np.float32)
    layer(x)
    alpha, beta, gamma = rng.rand(6) + 0.5, rng.rand(5) + 0.5, rng.rand(4) + 0.5
    layer.channel_scale.assign(alpha)
    layer.height_scale.assign(beta)
    layer.width_scale.assign(gamma)
    kernel = layer.kernel.numpy()
    float_conv = tf.keras.layers.Conv2D(6, 3, strides=2, padding="same", use_bias=False)
    float_conv.build(x.shape)
    float_conv.set_weights([ref.sign(kernel)])
    expected = float_conv(ref.sign(x)).numpy() * beta[:, None, None] * gamma[None, :, None] * alpha
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_gamma_gradients(rng):
    layer = XnorPlusPlusConv2D(3, 3, padding="same")
    x = tf.constant(rng.randn(2, 4, 5, 2), tf.float32)
    upstream = rng.randn(2, 4, 5, 3)
    with tf.GradientTape() as tape:
        y = layer(x)
        loss = tf.reduce_sum(y * upstream)
    conv = (y / 1.0).numpy()  # Γ = 1 at init, so y is the plain binary conv
    d_alpha, d_beta, d_gamma = tape.gradient(
        loss, [layer.channel_scale, layer.height_scale, layer.width_scale]
    )
    np.testing.assert_allclose(d_alpha, (upstream * conv).sum((0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(d_beta, (upstream * conv).sum((0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(d_gamma, (upstream * conv).sum((0, 1, 3)), rtol=1e-5)


def test_dynamic_spatial_size_is_one_clear_error():
    with pytest.raises(
        UserError, match=r"static height and width.*received input shape \(None, None, None, 3\)"
    ):
        XnorPlusPlusConv2D(4, 3).build((None, None, None, 3))


def _official_comparison(rng, case, x, w, zero_sign=0.0):
    """Ours (y, dx, dW, dα, dβ, dγ) and the official ones, and the official y with
    torch's sign(0) = 0."""
    upstream = rng.randn(*case.output_shape())
    _, _, height, width = case.output_shape()
    scales = [float32_exact(rng.rand(n) + 0.5) for n in (case.out_channels, height, width)]

    def set_gamma(layer):
        for variable, value in zip((layer.channel_scale, layer.height_scale, layer.width_scale), scales):
            variable.assign(value)

    conv = get_recipe("xnor_plus_plus").conv2d(
        case.out_channels, case.kernel, strides=case.stride, padding=case.padding, use_bias=False
    )
    names = ("channel_scale", "height_scale", "width_scale")
    y, dx, dw, d_scales = run_conv(conv, x, w, upstream, variables=names, prepare=set_gamma)
    args = (x, w, *scales, upstream, case.stride, case.torch_padding)
    expected = official.xnor_plus_plus_conv(*args, zero_sign=zero_sign)
    return (y, dx, dw, *d_scales), expected, official.xnor_plus_plus_conv(*args)[0]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_official_forward_and_gradients(rng, case):
    x, w = clear_of(rng, case.input_shape, 0.9), clear_of(rng, case.weight_shape, 0.9)
    actual, expected, _ = _official_comparison(rng, case, x, w)
    for ours, theirs in zip(actual, expected):
        assert_close(ours, theirs)


def test_exact_zeros_take_plus_one_where_torch_takes_zero(rng):
    case = CASES[0]
    x = with_exact_zeros(rng, clear_of(rng, case.input_shape, 0.9))
    w = with_exact_zeros(rng, clear_of(rng, case.weight_shape, 0.9))
    actual, expected, torch_y = _official_comparison(rng, case, x, w, zero_sign=1.0)
    for ours, theirs in zip(actual, expected):
        assert_close(ours, theirs)
    assert not np.allclose(actual[0], torch_y, atol=1e-3)
