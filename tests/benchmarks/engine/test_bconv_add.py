"""LabBnnBconv2dAdd's kernel: act(transform(acc) + residual) in float32, the PRELU that may follow,
and LceQuantize of the result, equal to a NumPy transcription of those ops bit for bit, at every
level here and 1/2 threads."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.engine import kernels, library
from tests.benchmarks.engine import numpy_lce_reference as ref

LEVELS = library.supported_levels()
BOUNDS = {"none": (-np.inf, np.inf), "relu": (0, np.inf), "relu_n1_to_1": (-1, 1), "relu6": (0, 6)}
# name: (batch, h, w, channels_in, channels_out, kernel, padding, pad_values, groups)
CASES = {
    "quicknet_one_padding": (1, 9, 9, 64, 64, 3, "same", 1, 1),
    "birealnet_zero_padding": (2, 6, 7, 64, 64, 3, "same", 0, 1),
    "channels_out_40_zero_padding": (1, 5, 6, 96, 40, 3, "same", 0, 1),
    "channels_out_17_one_padding": (1, 4, 4, 32, 17, 3, "same", 1, 1),
    "channels_out_48_valid": (1, 6, 6, 64, 48, 3, "valid", 1, 1),
    "grouped": (1, 5, 5, 128, 40, 3, "same", 1, 2),
    # Few pixels, many channel blocks: with 2 threads AVX-512 splits the output channels too.
    "channel_split_zero_padding": (1, 5, 5, 64, 72, 3, "same", 0, 1),
    "channel_split_one_padding": (2, 3, 3, 128, 128, 3, "same", 1, 1),
}


def reference(x, f, multiplier, bias, residual, case, activation, alpha=None):
    batch, h, w, cin, cout, k, padding, pad_values, groups = case
    acc = ref.bconv2d_accumulators(x, f, channels_in=cin, padding=padding, pad_values=pad_values)
    y = ref.output_transform(acc, multiplier, bias, backtransform_add=k * k * (cin // groups))
    lo, hi = (np.float32(v) for v in BOUNDS[activation])
    y = (y + residual).astype(np.float32)  # one float32 rounding, as TFLite's ADD
    y = np.where(y < lo, lo, y)
    y = np.where(hi < y, hi, y)
    if alpha is not None:  # TFLite's PRELU: -0.0 kept, a NaN multiplied
        y = np.where(y >= 0, y, (y * alpha).astype(np.float32))
    return y, ref.bitpack(y)


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", CASES)
def test_fused_add_and_quantize_equal_the_two_ops_exactly(name: str, level: str, threads: int) -> None:
    batch, h, w, cin, cout, k, padding, pad_values, groups = case = CASES[name]
    rng = np.random.default_rng(len(name))
    x = ref.bitpack(rng.standard_normal((batch, h, w, cin)).astype(np.float32))
    f = ref.bitpack(rng.standard_normal((cout, k, k, cin // groups)).astype(np.float32))
    multiplier = rng.uniform(-0.05, 0.05, cout).astype(np.float32)
    bias = rng.uniform(-1, 1, cout).astype(np.float32)
    params = kernels.bconv2d_params(x.shape, f.shape, channels_in=cin, padding=padding, pad_values=pad_values)
    conv = kernels.Bconv2d(params, f, multiplier, bias, level=level)
    residual = rng.standard_normal((batch, params.out_h, params.out_w, cout)).astype(np.float32)
    with library.Pool(threads) as pool:
        for activation in BOUNDS:
            expected, expected_bits = reference(x, f, multiplier, bias, residual, case, activation)
            out, none = conv.run_add(x, residual, activation, pool=pool)
            assert none is None and out.tobytes() == expected.tobytes(), activation
            out, bits = conv.run_add(x, residual, activation, quantize=True, pool=pool)
            assert out.tobytes() == expected.tobytes(), activation
            np.testing.assert_array_equal(bits, expected_bits, err_msg=activation)
            if BOUNDS[activation][0] < 0:  # both signs occur (relu and relu6 leave none negative)
                assert (bits != 0).any() and (bits != -1).any()
        # LabBNN's blocks: the ADD's PRELU too, slopes of both signs (a negative slope flips the sign)
        alpha = rng.uniform(-0.5, 0.5, cout).astype(np.float32)
        expected, expected_bits = reference(x, f, multiplier, bias, residual, case, "none", alpha)
        out, bits = conv.run_add(x, residual, quantize=True, pool=pool, alpha=alpha)
        assert out.tobytes() == expected.tobytes()
        np.testing.assert_array_equal(bits, expected_bits)
