"""DoReFa, 1-bit (`bnn` activations, `scaled_sign` weights, per-channel α) against
BiBench's official DoReFaConv2d."""

import pytest

import numpy_official_bibench as official
from bibench_conv_cases import (
    CASES,
    assert_exact_zeros_differ_only_in_sign_of_zero,
    assert_recipe_matches_official,
    case_id,
)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_conv_matches_official_forward_and_gradients(rng, case):
    assert_recipe_matches_official(rng, case, "dorefa", official.dorefa_conv)


def test_exact_zeros_differ_from_official_only_in_sign_of_zero(rng):
    """torch.sign(0) = 0, DoReFa-Net and larq +1: the forward differs exactly there."""
    assert_exact_zeros_differ_only_in_sign_of_zero(rng, CASES[0], "dorefa", official.dorefa_conv)
