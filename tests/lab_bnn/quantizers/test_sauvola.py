"""Sauvola: forward and clip-STE gradient (through m, s and R) against NumPy, for the
LAB code's deviation (default) and the textbook window std, and for R over the whole
batch (default, the LAB code) and per sample."""

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


def _batch_of_unequal_ranges(rng, shape):
    """Samples with clearly different largest deviations, so R per sample ≠ R per batch."""
    scales = np.linspace(0.5, 2.0, shape[0]).reshape(-1, 1, 1, 1)
    return (rng.randn(*shape) * 0.8 + 0.3) * scales


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("window_size,k", [(3, 0.5), (1, 0.5), (5, 0.2)])
@pytest.mark.parametrize("dynamic_range", ["batch", "sample"])
def test_official_deviation_matches_the_lab_code(rng, shape, window_size, k, dynamic_range):
    x = _batch_of_unequal_ranges(rng, shape)
    upstream = rng.randn(*shape)
    layer = Sauvola(window_size, k, dynamic_range=dynamic_range)
    out, (dx,) = forward_and_gradients(layer, x, upstream)
    ref_out, u, ref_dx = official.sauvola_official(
        x, window_size, k, 1e-9, upstream, per_sample_range=dynamic_range == "sample"
    )
    np.testing.assert_allclose(_difference(layer, x), u, rtol=1e-5, atol=1e-6)
    decided = np.abs(u) > 1e-4
    np.testing.assert_array_equal(out[decided], ref_out[decided])
    clear = np.abs(np.abs(u) - 1.0) > 1e-4  # away from the clip-STE edge
    np.testing.assert_allclose(dx[clear], ref_dx[clear], rtol=1e-5, atol=1e-5)


def test_official_deviation_is_the_default_and_differs_from_the_window_std(rng):
    x = (rng.randn(2, 7, 6, 3) + 0.3).astype(np.float32)
    _, u, _ = official.sauvola_official(x, 3, 0.5, 1e-9, np.ones_like(x), per_sample_range=False)
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
        _, _, ref_dx = official.sauvola_official(x, 3, 0.5, 1e-5, upstream, per_sample_range=False)
        np.testing.assert_allclose(dx, ref_dx, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("window_size,k", [(3, 0.5), (5, 0.2)])
def test_window_std_matches_numpy(rng, window_size, k):
    x = rng.randn(2, 7, 6, 3) * 0.8 + 0.3
    upstream = rng.randn(*x.shape)
    layer = Sauvola(window_size, k, epsilon=1e-5, deviation="window_std", dynamic_range="sample")
    out, (dx,) = forward_and_gradients(layer, x, upstream)
    ref_out, u, ref_dx = ref.sauvola(x, window_size, k, 1e-5, upstream)  # R per sample
    np.testing.assert_allclose(_difference(layer, x), u, rtol=1e-5, atol=1e-6)
    assert_signs_match(out, ref_out, u)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("deviation", ["official", "window_std"])
def test_per_sample_range_makes_each_sample_independent_of_its_batch(rng, deviation):
    x = _batch_of_unequal_ranges(rng, (4, 6, 6, 2)).astype(np.float32)
    layer = Sauvola(deviation=deviation, dynamic_range="sample")
    np.testing.assert_array_equal(layer(x).numpy()[:1], layer(x[:1]).numpy())


@pytest.mark.parametrize("deviation", ["official", "window_std"])
def test_batch_range_depends_on_the_batch_and_equals_per_sample_at_batch_one(rng, deviation):
    x = _batch_of_unequal_ranges(rng, (4, 6, 6, 2)).astype(np.float32)
    batch, sample = Sauvola(deviation=deviation), Sauvola(deviation=deviation, dynamic_range="sample")
    assert np.abs(_difference(batch, x) - _difference(sample, x)).max() > 1e-2
    assert np.mean(batch(x).numpy()[:1] != batch(x[:1]).numpy()) > 0.01
    np.testing.assert_array_equal(_difference(batch, x[:1]), _difference(sample, x[:1]))


def test_dynamic_range_is_in_the_config():
    layer = Sauvola(dynamic_range="sample")
    assert Sauvola.from_config(layer.get_config()).dynamic_range == "sample"
    assert Sauvola().get_config()["dynamic_range"] == "batch"


@pytest.mark.parametrize("dynamic_range", ["global", None, "Batch"])
def test_bad_dynamic_range_is_one_clear_error(dynamic_range):
    with pytest.raises(
        UserError, match=rf"Sauvola dynamic_range must be one of .*batch.*sample.*received {dynamic_range!r}"
    ):
        Sauvola(dynamic_range=dynamic_range)


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
