"""NumPy transcription of larq-compute-engine v0.16.0's reference kernels (our independent oracle).

Sources (read, not copied): core/bitpacking/bitpack.h (LSB first, x < 0 → 1, pad bits 0),
core/bconv2d/reference.h (accumulators, one/zero padding, groups), tflite/kernels/bconv2d.cc
OneTimeSetup + core/bconv2d/output_transform.h (folded clamp, multiplier, bias, int8 rounding,
thresholds), tflite/kernels/quantization.cc, core/bmaxpool.h.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def bitpack(x: np.ndarray) -> np.ndarray:
    """float [..., C] → int32 [..., ceil(C/32)], element i of a word in bit i, x < 0 → 1, pad bits 0."""
    channels = x.shape[-1]
    words = math.ceil(channels / 32)
    bits = np.zeros((*x.shape[:-1], words * 32), np.uint64)
    bits[..., :channels] = x < 0
    weights = np.uint64(1) << np.arange(32, dtype=np.uint64)
    packed = (bits.reshape(*x.shape[:-1], words, 32) * weights).sum(-1, dtype=np.uint64)
    return packed.astype(np.uint32).view(np.int32)


def unpack(words: np.ndarray, channels: int) -> np.ndarray:
    """int32 words → {0,1} bits [..., channels] (1 = negative)."""
    bits = (words.view(np.uint32)[..., None] >> np.arange(32, dtype=np.uint32)) & 1
    return bits.reshape(*words.shape[:-1], -1)[..., :channels].astype(np.int64)


def dequantize(words: np.ndarray, channels: int) -> np.ndarray:
    """LceDequantize to float: bit 0 → +1, bit 1 → −1."""
    return (1 - 2 * unpack(words, channels)).astype(np.float32)


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TFLite ComputePaddingHeightWidth for SAME: (output size, padding before)."""
    out = -(-size // stride)
    return out, max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0) // 2


def bconv2d_accumulators(
    input_words: np.ndarray,
    filter_words: np.ndarray,
    *,
    channels_in: int,
    strides=(1, 1),
    dilations=(1, 1),
    padding="same",
    pad_values=1,
) -> np.ndarray:
    """BConv2DReference's accumulators [N, OH, OW, Cout] (int64)."""
    batch, in_h, in_w, words = input_words.shape
    cout, kh, kw, words_group = filter_words.shape
    groups = words // words_group
    cout_group = cout // groups
    (sh, sw), (dh, dw) = strides, dilations
    if padding == "same":
        out_h, pad_t = same_padding(in_h, kh, sh, dh)
        out_w, pad_l = same_padding(in_w, kw, sw, dw)
    else:
        out_h, out_w, pad_t, pad_l = (
            (in_h - (kh - 1) * dh - 1) // sh + 1,
            (in_w - (kw - 1) * dw - 1) // sw + 1,
            0,
            0,
        )
    zero_padding = padding == "same" and pad_values == 0
    zero_point = (channels_in // groups) // 2
    # One-padding reads a 0 word (= +1) outside: pad the input with zero words.
    pad = max(kh * dh, kw * dw) + max(sh, sw) * 2
    padded = np.zeros((batch, in_h + 2 * pad, in_w + 2 * pad, words), np.int32)
    padded[:, pad : pad + in_h, pad : pad + in_w] = input_words
    inside = np.zeros((in_h + 2 * pad, in_w + 2 * pad), bool)
    inside[pad : pad + in_h, pad : pad + in_w] = True
    in_bits = unpack(padded, words * 32).reshape(batch, *padded.shape[1:3], groups, words_group * 32)
    f_bits = unpack(filter_words, words_group * 32).reshape(groups, cout_group, kh, kw, -1)
    acc = np.zeros((batch, out_h, out_w, groups, cout_group), np.int64)
    oy = np.arange(out_h) * sh - pad_t + pad
    ox = np.arange(out_w) * sw - pad_l + pad
    for ky in range(kh):
        for kx in range(kw):
            ys, xs = oy + ky * dh, ox + kx * dw
            x = in_bits[:, ys][:, :, xs]  # [N, OH, OW, G, bits]
            f = f_bits[:, :, ky, kx]  # [G, Cg, bits]
            tap = np.einsum("nhwgb,gcb->nhwgc", x, 1 - f) + np.einsum("nhwgb,gcb->nhwgc", 1 - x, f)
            if zero_padding:
                outside = ~inside[ys][:, xs]
                tap[:, outside] = zero_point
            acc += tap
    return acc.reshape(batch, out_h, out_w, cout)


def activation_range(activation: str) -> tuple[int, int]:
    """TFLite CalculateActivationRange for int32."""
    return {"none": (INT32_MIN, INT32_MAX), "relu": (0, INT32_MAX), "relu_n1_to_1": (-1, 1), "relu6": (0, 6)}[
        activation
    ]


def output_transform(
    acc: np.ndarray,
    multiplier: np.ndarray,
    bias: np.ndarray,
    *,
    backtransform_add: int,
    activation="none",
    output="float",
    output_scale=1.0,
    output_zero_point=0,
) -> np.ndarray:
    """LCE's folded float/int8 output transform: clamp'(2·acc) · mul' + bias' in float32 (no FMA)."""
    k = backtransform_add
    scale = float(output_scale) if output == "int8" else 1.0
    zp = float(output_zero_point) if output == "int8" else 0.0
    mul = (-1 * multiplier.astype(np.float64) / scale).astype(np.float32)
    add = ((bias.astype(np.float64) + k * multiplier.astype(np.float64)) / scale + zp).astype(np.float32)
    lo, hi = activation_range(activation)
    lo, hi = max(lo, -k), min(hi, k)
    x = np.clip(acc.astype(np.int64) * 2, k - hi, k - lo).astype(np.float32)
    y = x * mul + add  # two float32 roundings, as LCE's x86 build
    if output == "float":
        return y.astype(np.float32)
    y64 = y.astype(np.float64)  # |y| + 0.5 is exact in float64: TfLiteRound (std::round), half away from zero
    rounded = np.sign(y64) * np.floor(np.abs(y64) + 0.5)
    return np.clip(rounded, -128, 127).astype(np.int8)


def bitpacked_output(acc: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Bitpacked output: bit = acc > threshold, LSB first, pad bits 0."""
    return bitpack(np.where(acc > thresholds, -1.0, 1.0).astype(np.float32))


def bmaxpool2d(words: np.ndarray, pool_size, strides, padding="valid") -> np.ndarray:
    """core/bmaxpool.h: AND over the in-bounds window pixels."""
    batch, in_h, in_w, depth = words.shape
    (fh, fw), (sh, sw) = pool_size, strides
    if padding == "same":
        out_h, pad_t = same_padding(in_h, fh, sh, 1)
        out_w, pad_l = same_padding(in_w, fw, sw, 1)
    else:
        out_h, out_w, pad_t, pad_l = (in_h - fh) // sh + 1, (in_w - fw) // sw + 1, 0, 0
    out = np.full((batch, out_h, out_w, depth), -1, np.int32)
    for oy in range(out_h):
        for ox in range(out_w):
            y0, x0 = oy * sh - pad_t, ox * sw - pad_l
            window = words[:, max(y0, 0) : max(y0 + fh, 0), max(x0, 0) : max(x0 + fw, 0)]
            out[:, oy, ox] = np.bitwise_and.reduce(window.reshape(batch, -1, depth), axis=1)
    return out
