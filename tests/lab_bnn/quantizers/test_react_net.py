"""ReActNet: RSign and RPReLU against NumPy; the RSign conv against BiBench's official
ReActConv2d and RPReLU against its move → PReLU → move."""

from lab_bnn.errors import UserError
from lab_bnn.layers import RPReLU
from lab_bnn.quantizers import RSign
from lab_bnn.recipes import get_recipe

import numpy as np
import pytest

import numpy_official_bibench as official
import numpy_reference_bibench as ref
from bibench_conv_cases import (
    CASES,
    assert_close,
    case_id,
    clear_of,
    float32_exact,
    run_conv,
    to_nchw,
    to_nhwc,
)
from conftest import forward_and_gradients

TOL = dict(rtol=1e-5, atol=1e-5)


def test_rsign(rng):
    layer = RSign()
    layer.build((None, 5, 5, 4))
    tau = rng.randn(4) * 0.3
    layer.threshold.assign(tau)
    x, upstream = rng.randn(2, 5, 5, 4) * 0.8, rng.randn(2, 5, 5, 4)
    out, (dx, dtau) = forward_and_gradients(layer, x, upstream)
    ref_out, ref_dx, ref_dtau = ref.rsign(x, tau, upstream)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_allclose(dx, ref_dx, **TOL)
    np.testing.assert_allclose(dtau, ref_dtau, **TOL)


def test_rprelu(rng):
    layer = RPReLU()
    layer.build((None, 5, 5, 4))
    gamma, slope, zeta = rng.randn(4) * 0.3, rng.rand(4), rng.randn(4)
    layer.set_weights([gamma, slope, zeta])
    x, upstream = rng.randn(2, 5, 5, 4), rng.randn(2, 5, 5, 4)
    out, (dx, dgamma, dslope, dzeta) = forward_and_gradients(layer, x, upstream)
    ref_out, *ref_grads = ref.rprelu(x, gamma, slope, zeta, upstream)
    np.testing.assert_allclose(out, ref_out, **TOL)
    for actual, expected in zip((dx, dgamma, dslope, dzeta), ref_grads):
        np.testing.assert_allclose(actual, expected, **TOL)


def _react_conv(case):
    return get_recipe("react_net").conv2d(
        case.out_channels, case.kernel, strides=case.stride, padding=case.padding, use_bias=False
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rsign_conv_matches_official_forward_and_gradients(rng, case):
    tau = float32_exact(rng.randn(case.in_channels) * 0.3)
    shifted = clear_of(rng, case.input_shape, 0.8)  # x + τ clear of the sign tie
    x = float32_exact(shifted - tau[None, :, None, None])
    w, upstream = clear_of(rng, case.weight_shape, 0.9), rng.randn(*case.output_shape())

    def set_threshold(layer):
        layer.input_quantizer.threshold.assign(tau)

    y, dx, dw, (dtau,) = run_conv(
        _react_conv(case), x, w, upstream, variables=("threshold",), prepare=set_threshold
    )
    expected = official.react_conv(x, w, tau, upstream, case.stride, case.torch_padding)
    for actual, wanted in zip((y, dx, dw, dtau), expected):
        assert_close(actual, wanted)


def test_rsign_conv_at_exact_zero_takes_plus_one_where_torch_takes_zero(rng):
    case = CASES[0]
    x, w = clear_of(rng, case.input_shape, 0.8), clear_of(rng, case.weight_shape, 0.9)
    x[:, :, ::2] = 0.0  # τ = 0 at init: x + τ is exactly 0 on every other row
    upstream, tau = rng.randn(*case.output_shape()), np.zeros(case.in_channels)
    y, dx, dw, (dtau,) = run_conv(_react_conv(case), x, w, upstream, variables=("threshold",))
    args = (x, w, tau, upstream, case.stride, case.torch_padding)
    for actual, wanted in zip((y, dx, dw, dtau), official.react_conv(*args, zero_sign=1.0)):
        assert_close(actual, wanted)
    assert not np.allclose(y, official.react_conv(*args)[0], atol=1e-3)


def _rprelu_against_official(rng, x, gradient_at_zero, bias1, slope, bias2):
    """RPReLU's (y, dx, dγ, d slope, dζ) and the official ones with γ = −b1, ζ = b2."""
    layer = RPReLU(gradient_at_zero=gradient_at_zero)
    layer.build((None,) + to_nhwc(x).shape[1:])
    layer.set_weights([-bias1, slope, bias2])
    upstream = rng.randn(*x.shape)
    out, (dx, dgamma, dslope, dzeta) = forward_and_gradients(layer, to_nhwc(x), to_nhwc(upstream))
    y, ox, ob1, oslope, ob2 = official.rprelu(x, bias1, slope, bias2, upstream)
    return (to_nchw(out), to_nchw(dx), dgamma, dslope, dzeta), (y, ox, -ob1, oslope, ob2)


@pytest.mark.parametrize("shape", [(2, 4, 5, 6), (1, 1, 1, 3)])
@pytest.mark.parametrize("gradient_at_zero", ["slope", "zero"])
def test_rprelu_matches_official_away_from_the_kink(rng, shape, gradient_at_zero):
    channels = shape[1]
    bias1, slope, bias2 = (float32_exact(rng.randn(channels) * 0.3) for _ in range(3))
    x = float32_exact(clear_of(rng, shape, 1.0) - bias1[None, :, None, None])
    ours, theirs = _rprelu_against_official(rng, x, gradient_at_zero, bias1, slope, bias2)
    for actual, wanted in zip(ours, theirs):
        assert_close(actual, wanted)


def test_rprelu_gradient_at_the_kink_is_the_slope_by_default_and_zero_on_request(rng):
    x = np.zeros((2, 4, 3, 3))  # shifts 0 at init: every input sits on the kink
    bias1, bias2, slope = np.zeros(4), np.zeros(4), float32_exact(rng.rand(4) * 0.5 + 0.1)
    ours, theirs = _rprelu_against_official(rng, x, "slope", bias1, slope, bias2)
    for actual, wanted in zip(ours, theirs):
        assert_close(actual, wanted)
    assert np.abs(theirs[1]).min() > 0
    former, _ = _rprelu_against_official(rng, x, "zero", bias1, slope, bias2)
    np.testing.assert_array_equal(former[1], 0.0)
    np.testing.assert_array_equal(former[0], theirs[0])


def test_rprelu_config_keeps_gradient_at_zero():
    layer = RPReLU(gradient_at_zero="zero")
    assert RPReLU.from_config(layer.get_config()).gradient_at_zero == "zero"
    assert RPReLU().get_config()["gradient_at_zero"] == "slope"


def test_rprelu_bad_gradient_at_zero_is_one_clear_error():
    with pytest.raises(UserError, match=r"gradient_at_zero must be one of 'slope', 'zero'; received 'one'"):
        RPReLU(gradient_at_zero="one")
