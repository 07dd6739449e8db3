"""Sauvola: forward and clip-STE gradient (through m, s and R) against NumPy, for the
LAB code's deviation (default) and the textbook window std."""

from lab_bnn.errors import UserError
from lab_bnn.quantizers import Sauvola

import numpy as np
import pytest

import numpy_official as official
import numpy_reference as ref
from conftest import assert_signs_match, forward_and_gradients

SHAPES = [(2, 7, 6, 3), (1, 2, 3, 2), (2, 1, 1, 4)]


def _difference(layer, x):
    return layer.difference(np.asarray(x, np.float32)).numpy()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("window_size,k", [(3, 0.5), (1, 0.5), (5, 0.2)])
def test_official_deviation_matches_the_lab_code(rng, shape, window_size, k):
    x = rng.randn(*shape) * 0.8 + 0.3
    upstream = rng.randn(*shape)
    layer = Sauvola(window_size, k)
    out, (dx,) = forward_and_gradients(layer, x, upstream)
    ref_out, u, ref_dx = official.sauvola_official(x, window_size, k, 1e-9, upstream)
    np.testing.assert_allclose(_difference(layer, x), u, rtol=1e-5, atol=1e-6)
    decided = np.abs(u) > 1e-4
    np.testing.assert_array_equal(out[decided], ref_out[decided])
    clear = np.abs(np.abs(u) - 1.0) > 1e-4  # away from the clip-STE edge
    np.testing.assert_allclose(dx[clear], ref_dx[clear], rtol=1e-5, atol=1e-5)


def test_official_deviation_is_the_default_and_differs_from_the_window_std(rng):
    x = (rng.randn(2, 7, 6, 3) + 0.3).astype(np.float32)
    _, u, _ = official.sauvola_official(x, 3, 0.5, 1e-9, np.ones_like(x))
    np.testing.assert_allclose(_difference(Sauvola(), x), u, rtol=1e-5, atol=1e-6)
    window_std = _difference(Sauvola(deviation="window_std", epsilon=1e-9), x)
    assert np.abs(window_std - u).max() > 1e-2


@pytest.mark.parametrize("deviation", ["official", "window_std"])
def test_zero_input_is_finite_and_matches(deviation):
    x = np.zeros((1, 5, 5, 2))
    upstream = np.ones_like(x)
    _, (dx,) = forward_and_gradients(Sauvola(deviation=deviation, epsilon=1e-5), x, upstream)
    assert np.isfinite(dx).all()
    if deviation == "official":
        _, _, ref_dx = official.sauvola_official(x, 3, 0.5, 1e-5, upstream)
        np.testing.assert_allclose(dx, ref_dx, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("window_size,k", [(3, 0.5), (5, 0.2)])
def test_window_std_matches_numpy(rng, window_size, k):
    x = rng.randn(2, 7, 6, 3) * 0.8 + 0.3
    upstream = rng.randn(*x.shape)
    layer = Sauvola(window_size, k, epsilon=1e-5, deviation="window_std")
    out, (dx,) = forward_and_gradients(layer, x, upstream)
    ref_out, u, ref_dx = ref.sauvola(x, window_size, k, 1e-5, upstream)
    np.testing.assert_allclose(_difference(layer, x), u, rtol=1e-5, atol=1e-6)
    assert_signs_match(out, ref_out, u)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("deviation", ["official", "window_std"])
def test_each_sample_is_independent_of_its_batch(rng, deviation):
    x = rng.randn(4, 6, 6, 2).astype(np.float32)
    layer = Sauvola(deviation=deviation)
    np.testing.assert_array_equal(layer(x).numpy()[:1], layer(x[:1]).numpy())


@pytest.mark.parametrize("deviation", ["std", 0, None])
def test_bad_deviation_is_one_clear_error(deviation):
    with pytest.raises(
        UserError, match=rf"Sauvola deviation must be one of .*official.*window_std.*{deviation!r}"
    ):
        Sauvola(deviation=deviation)


@pytest.mark.parametrize("window_size", [-1, 6])
def test_bad_window_is_one_clear_error(window_size):
    with pytest.raises(
        UserError, match=rf"Sauvola window_size must be a positive odd integer.*received {window_size}"
    ):
        Sauvola(window_size=window_size)
