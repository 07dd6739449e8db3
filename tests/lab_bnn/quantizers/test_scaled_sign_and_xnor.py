"""Per-channel weight scaling (XNOR/DoReFa/Bi-Real/ReAct weights), XNOR-Net's
activation scaling, and larq's `bnn`/`bi_real` under our aliases, against NumPy; the
XNOR-Net conv against BiBench's official XNORConv2d."""

from lab_bnn.quantizers import ScaledSign, XnorActivation, get
from lab_bnn.recipes import get_recipe

import numpy as np
import pytest

import numpy_official_bibench as official
import numpy_reference_bibench as ref
from bibench_conv_cases import CASES, assert_close, case_id, clear_of, run_conv, with_exact_zeros
from conftest import forward_and_gradients

TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("per_channel", [True, False])
def test_scaled_sign(rng, per_channel):
    w, upstream = rng.randn(3, 3, 4, 5) * 0.8, rng.randn(3, 3, 4, 5)
    out, (dw,) = forward_and_gradients(ScaledSign(per_channel=per_channel), w, upstream)
    ref_out, ref_dw = ref.scaled_sign(w, upstream, per_channel)
    np.testing.assert_allclose(out, ref_out, **TOL)
    np.testing.assert_allclose(dw, ref_dw, **TOL)


@pytest.mark.parametrize("shape", [(2, 5, 5, 3), (4, 7)])
def test_xnor_activation(rng, shape):
    x, upstream = rng.randn(*shape) * 0.9, rng.randn(*shape)
    out, (dx,) = forward_and_gradients(XnorActivation(), x, upstream)
    ref_out, ref_dx = ref.xnor_activation(x, upstream)
    np.testing.assert_allclose(out, ref_out, **TOL)
    np.testing.assert_allclose(dx, ref_dx, **TOL)


@pytest.mark.parametrize("alias,grad", [("bnn", ref.clip_ste), ("bi_real", ref.approx_sign_grad)])
def test_larq_quantizers_under_bibench_aliases(rng, alias, grad):
    x, upstream = rng.randn(2, 4, 4, 3) * 0.8, rng.randn(2, 4, 4, 3)
    out, (dx,) = forward_and_gradients(get(alias), x, upstream)
    np.testing.assert_array_equal(out, ref.sign(x))
    np.testing.assert_allclose(dx, grad(x, upstream), **TOL)


def _xnor_conv(case):
    return get_recipe("xnor_net").conv2d(
        case.out_channels, case.kernel, strides=case.stride, padding=case.padding, use_bias=False
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_xnor_conv_matches_official_forward_and_gradients(rng, case):
    x, w = clear_of(rng, case.input_shape, 1.2), clear_of(rng, case.weight_shape, 0.9)
    upstream = rng.randn(*case.output_shape())
    y, dx, dw, _ = run_conv(_xnor_conv(case), x, w, upstream)
    expected = official.xnor_conv(x, w, upstream, case.stride, case.torch_padding)
    for actual, wanted in zip((y, dx, dw), expected):
        assert_close(actual, wanted)


def test_xnor_conv_with_exact_zeros_and_an_all_zero_sample(rng):
    """α_x = 0 for an all-zero sample; elsewhere torch.sign(0) = 0 where we (and the
    paper) take +1, which scales by α rather than vanishing."""
    case = CASES[2]
    x = with_exact_zeros(rng, clear_of(rng, case.input_shape, 1.2))
    w = with_exact_zeros(rng, clear_of(rng, case.weight_shape, 0.9))
    x[1] = 0.0
    upstream = rng.randn(*case.output_shape())
    y, dx, dw, _ = run_conv(_xnor_conv(case), x, w, upstream)
    args = (x, w, upstream, case.stride, case.torch_padding)
    for actual, wanted in zip((y, dx, dw), official.xnor_conv(*args, zero_sign=1.0)):
        assert_close(actual, wanted)
    np.testing.assert_array_equal(y[1], 0.0)
    assert not np.allclose(y, official.xnor_conv(*args)[0], atol=1e-3)


@pytest.mark.parametrize("case", CASES[:3], ids=case_id)
def test_per_layer_scale_is_not_the_official_per_channel_one(rng, case):
    """`per_channel=False` (original DoReFa's one E|W|) is ours, not BiBench's: it
    matches the official conv only with the weight scaled per channel to a common α."""
    x, w = clear_of(rng, case.input_shape, 0.9), clear_of(rng, case.weight_shape, 0.9)
    w = w * (np.arange(case.out_channels) + 1.0)[:, None, None, None]
    upstream = rng.randn(*case.output_shape())
    conv = get_recipe("dorefa").conv2d(
        case.out_channels, case.kernel, strides=case.stride, padding=case.padding, use_bias=False
    )
    conv.kernel_quantizer = ScaledSign(per_channel=False)
    y, dx, dw, _ = run_conv(conv, x, w, upstream)
    per_channel = np.abs(w).mean(axis=(1, 2, 3), keepdims=True)
    per_layer = np.abs(w).mean()
    y_official, _, dw_official = official.dorefa_conv(x, w, upstream, case.stride, case.torch_padding)
    # conv is linear in the binary weights: rescale each output channel's α
    assert_close(y, y_official * (per_layer / per_channel.reshape(1, -1, 1, 1)))
    assert_close(dw, dw_official)
    assert not np.allclose(y, y_official, rtol=1e-3)
