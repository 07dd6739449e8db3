"""Sauvola: forward and clip-STE gradient (through m, s and R) against NumPy."""

from lab_bnn.errors import UserError
from lab_bnn.quantizers import Sauvola

import numpy as np
import pytest

import numpy_reference as ref
from conftest import assert_signs_match, forward_and_gradients


@pytest.mark.parametrize("window_size,k", [(3, 0.5), (5, 0.2)])
def test_forward_and_gradient_match_numpy(rng, window_size, k):
    x = rng.randn(2, 7, 6, 3) * 0.8 + 0.3
    upstream = rng.randn(*x.shape)
    out, (dx,) = forward_and_gradients(Sauvola(window_size, k), x, upstream)
    ref_out, u, ref_dx = ref.sauvola(x, window_size, k, 1e-5, upstream)
    assert_signs_match(out, ref_out, u)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-5, atol=1e-5)


def test_each_sample_is_independent_of_its_batch(rng):
    x = rng.randn(4, 6, 6, 2).astype(np.float32)
    layer = Sauvola()
    np.testing.assert_array_equal(layer(x).numpy()[:1], layer(x[:1]).numpy())


@pytest.mark.parametrize("window_size", [-1, 6])
def test_bad_window_is_one_clear_error(window_size):
    with pytest.raises(
        UserError, match=rf"Sauvola window_size must be a positive odd integer.*received {window_size}"
    ):
        Sauvola(window_size=window_size)
