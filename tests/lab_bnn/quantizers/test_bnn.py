"""BNN (`bnn` on activations and weights) against BiBench's official BNNConv2d."""

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
    assert_recipe_matches_official(rng, case, "bnn", official.bnn_conv)


def test_exact_zeros_differ_from_official_only_in_sign_of_zero(rng):
    """torch.sign(0) = 0, BNN's paper and larq +1: the forward differs exactly there."""
    assert_exact_zeros_differ_only_in_sign_of_zero(rng, CASES[0], "bnn", official.bnn_conv)
