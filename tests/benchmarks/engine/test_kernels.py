"""The engine's kernels equal our NumPy transcription of LCE's reference kernels at every level here."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from benchmarks.engine import kernels, library
from tests.benchmarks.engine import numpy_lce_reference as ref

LEVELS = library.supported_levels()
THREADS = (1, 2)

# name: (batch, h, w, channels_in, channels_out, kernel, stride, dilation, padding, pad_values, groups)
CASES = {
    "k3_same_one": (1, 7, 7, 64, 40, 3, 1, 1, "same", 1, 1),
    "k3_same_zero": (1, 6, 6, 64, 33, 3, 1, 1, "same", 0, 1),
    "k3_same_zero_1x1map": (1, 1, 1, 64, 20, 3, 1, 1, "same", 0, 1),
    "k3_same_zero_2x2map": (3, 2, 2, 100, 17, 3, 1, 1, "same", 0, 1),
    "k3_same_one_2x2map": (1, 2, 2, 33, 17, 3, 1, 1, "same", 1, 1),
    "k3_s2_same_zero_odd": (1, 9, 7, 64, 48, 3, 2, 1, "same", 0, 1),
    "k3_s2_same_one_even": (3, 8, 8, 33, 24, 3, 2, 1, "same", 1, 1),
    "k5_same_zero": (1, 6, 5, 96, 16, 5, 1, 1, "same", 0, 1),
    "k5_s2_same_one": (1, 9, 9, 3, 8, 5, 2, 1, "same", 1, 1),
    "k1_same_zero": (1, 5, 5, 100, 70, 1, 1, 1, "same", 0, 1),
    "k1_s2_valid": (3, 6, 6, 64, 65, 1, 2, 1, "valid", 1, 1),
    "k2_same_one": (1, 5, 6, 32, 31, 2, 1, 1, "same", 1, 1),
    "k2_same_zero": (1, 4, 4, 64, 9, 2, 1, 1, "same", 0, 1),
    "k3_valid": (1, 7, 6, 64, 32, 3, 1, 1, "valid", 1, 1),
    "k3_d2_same_one": (1, 8, 8, 64, 24, 3, 1, 2, "same", 1, 1),
    "k3_d2_same_zero": (1, 7, 9, 33, 24, 3, 1, 2, "same", 0, 1),
    "k3_d2_s2_valid": (1, 9, 9, 64, 16, 3, 2, 2, "valid", 1, 1),
    "k3_groups2_same_one": (1, 6, 6, 64, 32, 3, 1, 1, "same", 1, 2),
    "k3_groups2_same_zero": (1, 5, 5, 128, 20, 3, 1, 1, "same", 0, 2),
    "k3_groups4_valid": (3, 6, 6, 128, 40, 3, 1, 1, "valid", 1, 4),
    "k1_groups4_same_zero_1x1map": (1, 1, 1, 256, 36, 1, 1, 1, "same", 0, 4),
    "k3_groups4_s2_same_zero_2x2map": (1, 2, 2, 128, 64, 3, 2, 1, "same", 0, 4),
    # Few wide rows: with 2 threads each row is split into pixel ranges.
    "k3_wide_few_rows_same_zero": (1, 2, 37, 64, 40, 3, 1, 1, "same", 0, 1),
    "k3_wide_few_rows_groups2": (1, 3, 20, 128, 24, 3, 1, 1, "same", 1, 2),
    # Grouped AVX-512 gathers every group at once and runs 64 pixels per batch of pointers: rows of 70.
    "k3_groups4_wide_rows_d2_same_zero": (1, 4, 70, 128, 24, 3, 1, 2, "same", 0, 4),
    # Few pixels, many channel blocks: with 2 threads AVX-512 splits the output channels too (unequal parts).
    "k3_small_map_channel_split_same_zero": (1, 5, 5, 64, 72, 3, 1, 1, "same", 0, 1),
    # AVX-512 reads ungrouped convs in place from a padded copy, eight pixels at a time across row and
    # image ends, vertical dilation included: pixel runs that cross rows and images, (h, w) strides apart.
    "k3_many_pixels_same_zero": (2, 11, 13, 64, 24, 3, 1, 1, "same", 0, 1),
    "k3_dilation_h2_same_zero": (1, 7, 9, 64, 24, 3, 1, (2, 1), "same", 0, 1),
    "k3_stride_w2_dilation_h2_same_one": (2, 8, 7, 96, 20, 3, (1, 2), (2, 1), "same", 1, 1),
    # Zero padding's corrections come from per-class tables up to 64 taps a side, per pixel beyond.
    "k65_same_zero": (1, 3, 4, 32, 16, 65, 1, 1, "same", 0, 1),
}


def _pair(value) -> tuple:
    return value if isinstance(value, tuple) else (value, value)


def options(case: tuple) -> dict:
    *_, cin, _, _, stride, dilation, padding, pad_values, _ = case
    return {
        "channels_in": cin,
        "strides": _pair(stride),
        "dilations": _pair(dilation),
        "padding": padding,
        "pad_values": pad_values,
    }


@functools.lru_cache(maxsize=None)
def operands(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Packed input, packed OHWI filter and the reference accumulators of one case."""
    batch, h, w, cin, cout, k, *_, groups = CASES[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    x = ref.bitpack(rng.standard_normal((batch, h, w, cin)).astype(np.float32))
    f = ref.bitpack(rng.standard_normal((cout, k, k, cin // groups)).astype(np.float32))
    return x, f, ref.bconv2d_accumulators(x, f, **options(CASES[name]))


def backtransform_add(name: str) -> int:
    _, _, _, cin, _, k, *_, groups = CASES[name]
    return k * k * (cin // groups)


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", CASES)
def test_accumulators_equal_reference_exactly(name: str, level: str, threads: int) -> None:
    x, f, expected = operands(name)
    got = kernels.accumulators(x, f, level=level, threads=threads, **options(CASES[name]))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("activation", ["none", "relu", "relu_n1_to_1", "relu6"])
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    "name", ["k3_same_zero_2x2map", "k3_groups2_same_zero", "k1_s2_valid", "k3_d2_same_one"]
)
def test_float_output_within_rounding(name: str, level: str, activation: str) -> None:
    x, f, acc = operands(name)
    cout = f.shape[0]
    rng = np.random.default_rng(1)
    multiplier = rng.uniform(-2, 2, cout).astype(np.float32)
    bias = rng.uniform(-50, 50, cout).astype(np.float32)
    got = kernels.bconv2d(
        x, f, multiplier, bias, level=level, threads=2, activation=activation, **options(CASES[name])
    )
    k = backtransform_add(name)
    expected = ref.output_transform(acc, multiplier, bias, backtransform_add=k, activation=activation)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6 * 2 * k * np.abs(multiplier).max())


@pytest.mark.parametrize("activation", ["none", "relu", "relu6"])
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", ["k3_same_zero", "k3_groups4_valid", "k5_s2_same_one"])
def test_int8_output_exact(name: str, level: str, activation: str) -> None:
    x, f, acc = operands(name)
    cout = f.shape[0]
    rng = np.random.default_rng(2)
    # Power-of-two multipliers and a bias far from .5: float rounding never decides a rounding tie.
    multiplier = rng.choice([-4.0, -1.0, -0.25, 0.5, 2.0, 8.0], cout).astype(np.float32)
    bias = (rng.integers(-40, 40, cout) + 0.3).astype(np.float32)
    int8 = {"output": "int8", "output_scale": 2.0, "output_zero_point": -3, "activation": activation}
    got = kernels.bconv2d(x, f, multiplier, bias, level=level, threads=2, **int8, **options(CASES[name]))
    expected = ref.output_transform(acc, multiplier, bias, backtransform_add=backtransform_add(name), **int8)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, expected)
    if activation == "none" and backtransform_add(name) > 200:
        assert (got == 127).any() and (got == -128).any()  # saturation is exercised


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", ["k3_same_one", "k3_same_zero_2x2map", "k1_s2_valid", "k3_groups4_valid"])
def test_bitpacked_output_exact(name: str, level: str, threads: int) -> None:
    x, f, acc = operands(name)
    k = backtransform_add(name)
    thresholds = np.random.default_rng(3).integers(k // 2 - 8, k // 2 + 8, f.shape[0]).astype(np.int32)
    thresholds[:2] = [np.iinfo(np.int32).max, np.iinfo(np.int32).min]  # constant-sign channels
    got = kernels.bconv2d(
        x, f, thresholds=thresholds, output="bitpacked", level=level, threads=threads, **options(CASES[name])
    )
    np.testing.assert_array_equal(got, ref.bitpacked_output(acc, thresholds))


@pytest.mark.parametrize("level", LEVELS)
def test_int8_rounding_is_half_away_from_zero_then_saturating(level: str) -> None:
    # multiplier 0: y = bias exactly, so each channel probes one float value.
    probes = [0.49999997, 0.5, -0.5, 1.5, 2.5, -2.5, 0.50000006, -0.49999997, 126.5, 127.5, -128.5, -127.5]
    probes += [1e10, -1e10, 8388609.0, -8388609.0, 3.4e38, 0.0, -0.0, 41.49999]
    cout = len(probes)
    x = np.zeros((1, 3, 3, 1), np.int32)
    f = ref.bitpack(np.random.default_rng(0).standard_normal((cout, 1, 1, 32)).astype(np.float32))
    bias = np.array(probes, np.float32)
    got = kernels.bconv2d(x, f, np.zeros(cout, np.float32), bias, level=level, channels_in=32, output="int8")
    expected = [0, 1, -1, 2, 3, -3, 1, 0, 127, 127, -128, -128, 127, -128, 127, -128, 127, 0, 0, 41]
    assert got[0, 1, 1].tolist() == expected
