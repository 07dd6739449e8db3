"""Bi-Real Net (`bi_real` activations, `scaled_sign` weights) against BiBench's
official BiRealConv2d."""

from lab_bnn.recipes import get_recipe

import numpy as np
import pytest

import numpy_official_bibench as official
from bibench_conv_cases import CASES, assert_close, case_id, clear_of, run_conv, with_exact_zeros


def _conv(case):
    return get_recipe("bi_real").conv2d(
        case.out_channels, case.kernel, strides=case.stride, padding=case.padding, use_bias=False
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_conv_matches_official_forward_and_gradients(rng, case):
    x, w = clear_of(rng, case.input_shape, 0.9), clear_of(rng, case.weight_shape, 0.9)
    upstream = rng.randn(*case.output_shape())
    y, dx, dw, _ = run_conv(_conv(case), x, w, upstream)
    expected = official.bireal_conv(x, w, upstream, case.stride, case.torch_padding)
    for actual, wanted in zip((y, dx, dw), expected):
        assert_close(actual, wanted)


def test_exact_zeros_differ_from_official_only_in_sign_of_zero(rng):
    """torch.sign(0) = 0, Bi-Real's paper and larq +1: the forward differs exactly there."""
    case = CASES[0]
    x = with_exact_zeros(rng, clear_of(rng, case.input_shape, 0.9))
    w = with_exact_zeros(rng, clear_of(rng, case.weight_shape, 0.9))
    x[0] = 0.0  # one all-zero sample
    upstream = rng.randn(*case.output_shape())
    y, dx, dw, _ = run_conv(_conv(case), x, w, upstream)
    args = (x, w, upstream, case.stride, case.torch_padding)
    plus_one = official.bireal_conv(*args, zero_sign=1.0)
    for actual, wanted in zip((y, dx, dw), plus_one):
        assert_close(actual, wanted)
    # torch's 0 also reaches dx through the binary weights, so only the plus-one form matches
    assert not np.allclose(y, official.bireal_conv(*args)[0], atol=1e-3)
