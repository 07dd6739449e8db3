"""Niblack: forward and clip-STE gradient (through the threshold too) against NumPy."""

from lab_bnn.errors import UserError
from lab_bnn.quantizers import Niblack

import numpy as np
import pytest

import numpy_reference as ref
from conftest import assert_signs_match, forward_and_gradients


@pytest.mark.parametrize("window_size,k", [(3, -0.2), (5, 0.3)])
def test_forward_and_gradient_match_numpy(rng, window_size, k):
    x = rng.randn(2, 7, 6, 3) * 0.8
    upstream = rng.randn(*x.shape)
    out, (dx,) = forward_and_gradients(Niblack(window_size, k), x, upstream)
    ref_out, u, ref_dx = ref.niblack(x, window_size, k, 1e-5, upstream)
    assert_signs_match(out, ref_out, u)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-5, atol=1e-5)


def test_flat_input_has_finite_gradient():
    x = np.zeros((1, 5, 5, 2))
    _, (dx,) = forward_and_gradients(Niblack(), x, np.ones_like(x))
    assert np.isfinite(dx).all()


@pytest.mark.parametrize("window_size", [-3, 0, 2, 4, 3.0, True])
def test_bad_window_is_one_clear_error(window_size):
    with pytest.raises(
        UserError, match=rf"Niblack window_size must be a positive odd integer.*received {window_size!r}"
    ):
        Niblack(window_size=window_size)


def test_non_4d_input_is_one_clear_error():
    with pytest.raises(UserError, match=r"Niblack binarizes 4-D NHWC.*\(None, 10\)"):
        Niblack().build((None, 10))
