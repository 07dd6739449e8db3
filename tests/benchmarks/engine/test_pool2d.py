"""The engine's float pools: MAX_POOL_2D equals TFLite's reference kernel (transcribed in NumPy)
and TensorFlow's max pooling, AVERAGE_POOL_2D equals XNNPACK's arithmetic (transcribed, and checked
against tflite-runtime), bit for bit at every level here and 1/2 threads."""

from __future__ import annotations

from lab_bnn.errors import UserError

import numpy as np
import pytest
import tensorflow as tf

from benchmarks.engine import float_kernels, fusion, library
from benchmarks.engine.interpreter import EngineInterpreter
from converter import convert, read_operators

LEVELS = library.supported_levels()
# name: (batch, h, w, channels, pool, stride, padding)
CASES = {
    "birealnet_stem_3x3_s2_same": (1, 12, 12, 64, 3, 2, "same"),
    "quicknet_2x2_s1_valid": (2, 7, 7, 64, 2, 1, "valid"),
    "odd_channels_3x3_s2_same": (1, 9, 8, 37, 3, 2, "same"),
    "wide_channels_2x2_s2_same_odd_map": (1, 5, 5, 130, 2, 2, "same"),
    "pool_larger_than_stride_5x3": (2, 6, 9, 16, (5, 3), (1, 2), "same"),
    "few_channels": (1, 6, 6, 3, 3, 1, "same"),
}
BOUNDS = {"none": (-np.inf, np.inf), "relu": (0.0, np.inf), "relu_n1_to_1": (-1.0, 1.0), "relu6": (0.0, 6.0)}


def _pair(value) -> tuple:
    return value if isinstance(value, tuple) else (value, value)


def reference_max_pool(x: np.ndarray, pool, stride, padding: str, activation: str) -> np.ndarray:
    """tflite::reference_ops::MaxPool (float): the in-bounds window, m = lowest, m = max(m, x) as
    std::max (m < x ? x : m) in row-major order, then min(max(m, lo), hi)."""
    (fh, fw), (sh, sw) = _pair(pool), _pair(stride)
    batch, h, w, channels = x.shape
    if padding == "same":
        out_h, out_w = -(-h // sh), -(-w // sw)
        pad_top = max((out_h - 1) * sh + fh - h, 0) // 2
        pad_left = max((out_w - 1) * sw + fw - w, 0) // 2
    else:
        out_h, out_w, pad_top, pad_left = (h - fh) // sh + 1, (w - fw) // sw + 1, 0, 0
    lo, hi = (np.float32(v) for v in BOUNDS[activation])
    out = np.empty((batch, out_h, out_w, channels), np.float32)
    for b in range(batch):
        for oy in range(out_h):
            for ox in range(out_w):
                y0, x0 = oy * sh - pad_top, ox * sw - pad_left
                m = np.full(channels, np.finfo(np.float32).min, np.float32)
                for y in range(max(y0, 0), min(y0 + fh, h)):
                    for xx in range(max(x0, 0), min(x0 + fw, w)):
                        v = x[b, y, xx]
                        m = np.where(m < v, v, m)
                m = np.where(m < lo, lo, m)
                out[b, oy, ox] = np.where(hi < m, hi, m)
    return out


def _input(name: str) -> np.ndarray:
    batch, h, w, channels, *_ = CASES[name]
    return np.random.default_rng(len(name)).standard_normal((batch, h, w, channels)).astype(np.float32) * 4


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", CASES)
def test_max_pool_equals_reference_exactly(name: str, level: str, threads: int) -> None:
    *_, pool, stride, padding = CASES[name]
    x = _input(name)
    for activation in BOUNDS:
        got = float_kernels.maxpool2d(
            x, _pair(pool), _pair(stride), padding, activation, level=level, threads=threads
        )
        expected = reference_max_pool(x, pool, stride, padding, activation)
        assert got.tobytes() == expected.tobytes(), activation
    tf_pool = tf.nn.max_pool2d(x, _pair(pool), _pair(stride), padding.upper()).numpy()
    np.testing.assert_array_equal(
        float_kernels.maxpool2d(x, _pair(pool), _pair(stride), padding, level=level), tf_pool
    )


@pytest.mark.parametrize("level", LEVELS)
def test_nan_and_signed_zero_follow_the_reference(level: str) -> None:
    x = np.zeros((1, 2, 2, 20), np.float32)
    x[0, 0, 0, :] = [np.nan, -0.0, 0.0, 1.0, -np.inf, np.inf, np.nan, -0.0, 2.0, -3.0] * 2
    x[0, 0, 1, :] = [1.0, 0.0, -0.0, np.nan, -1.0, 5.0, np.nan, -0.0, np.nan, -4.0] * 2
    x[0, 1] = -5.0
    for activation in BOUNDS:
        got = float_kernels.maxpool2d(x, (2, 2), (1, 1), "valid", activation, level=level)
        assert got.tobytes() == reference_max_pool(x, 2, 1, "valid", activation).tobytes(), activation


def test_bad_arguments_are_refused_clearly() -> None:
    x = np.zeros((1, 4, 4, 8), np.float32)
    with pytest.raises(UserError, match="activation must be one of"):
        float_kernels.maxpool2d(x, (2, 2), (2, 2), activation="tanh")
    with pytest.raises(UserError, match="padding must be 'same' or 'valid'; received 'full'"):
        float_kernels.maxpool2d(x, (2, 2), (2, 2), "full")


def xnnpack_average_pool(x: np.ndarray, pool, stride, activation: str) -> np.ndarray:
    """XNNPACK's f32 average pooling of at most 9 pixels (no padding), transcribed: the window's pixels
    in column-major order are i0..i8 (missing ones +0.0), summed ((i2+i3)+(i4+i5)) + (((i0+i1)+i8)+(i6+i7)),
    times 1/(pool size) in float32, then max(y, lo) and min(y, hi) with y first."""
    (fh, fw), (sh, sw) = _pair(pool), _pair(stride)
    batch, h, w, channels = x.shape
    out_h, out_w = (h - fh) // sh + 1, (w - fw) // sw + 1
    lo, hi = (np.float32(v) for v in BOUNDS[activation])
    out = np.empty((batch, out_h, out_w, channels), np.float32)
    for oy in range(out_h):
        for ox in range(out_w):
            taps = [x[:, oy * sh + ky, ox * sw + kx] for kx in range(fw) for ky in range(fh)]
            i = taps + [np.zeros((batch, channels), np.float32)] * (9 - len(taps))
            total = ((i[2] + i[3]) + (i[4] + i[5])) + (((i[0] + i[1]) + i[8]) + (i[6] + i[7]))
            y = total * (np.float32(1) / np.float32(fh * fw))
            y = np.where(y > lo, y, lo)
            out[:, oy, ox] = np.where(y < hi, y, hi)
    return out


AVERAGE_CASES = {  # (batch, h, w, channels, pool, stride, padding): no padding arises
    "birealnet_shortcut_2x2_s2_same": (1, 8, 8, 64, 2, 2, "same"),
    "odd_channels_3x3_s1_valid": (2, 6, 5, 37, 3, 1, "valid"),
    "tail_channels_3x2_s2_valid": (1, 7, 9, 130, (3, 2), 2, "valid"),
}


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("name", AVERAGE_CASES)
def test_average_pool_equals_xnnpack_transcription_exactly(name: str, level: str, threads: int) -> None:
    batch, h, w, channels, pool, stride, padding = AVERAGE_CASES[name]
    x = np.random.default_rng(len(name)).standard_normal((batch, h, w, channels)).astype(np.float32) * 4
    x.flat[::7] = -0.0
    for activation in BOUNDS:
        got = float_kernels.avgpool2d(
            x, _pair(pool), _pair(stride), padding, activation, level=level, threads=threads
        )
        assert got.tobytes() == xnnpack_average_pool(x, pool, stride, activation).tobytes(), activation


@pytest.mark.parametrize("name", AVERAGE_CASES)
def test_average_pool_equals_tflite_runtime_on_a_one_op_model(name: str) -> None:
    """The transcription's oracle: tflite-runtime's own kernel (XNNPACK), NaN and signed zeros included."""
    batch, h, w, channels, pool, stride, padding = AVERAGE_CASES[name]
    inputs = tf.keras.Input((h, w, channels))
    layer = tf.keras.layers.AveragePooling2D(_pair(pool), _pair(stride), padding=padding)
    flatbuffer = convert(tf.keras.Model(inputs, layer(inputs)))
    tf.keras.backend.clear_session()
    x = np.random.default_rng(1).standard_normal((batch, h, w, channels)).astype(np.float32)
    x.flat[::5], x.flat[3] = -0.0, np.nan
    xnnpack = EngineInterpreter(flatbuffer, fuse=False).predict(x)
    assert xnnpack.tobytes() == xnnpack_average_pool(x, pool, stride, "none").tobytes()
    rewritten, _ = fusion.fuse(flatbuffer)
    assert [op.op_type for op in read_operators(rewritten)] == [fusion.FLOAT_AVERAGE_POOL]
    for level in LEVELS:
        assert EngineInterpreter(flatbuffer, level=level, threads=2).predict(x).tobytes() == xnnpack.tobytes()


@pytest.mark.parametrize(
    "shape, pool, stride, padding, kernel_refuses",
    [
        ((1, 5, 5, 8), 2, 2, "same", True),  # SAME pads the 5x5 map
        ((1, 8, 8, 8), 4, 1, "valid", True),  # 16 pixels: XNNPACK's multi-pass kernel
        ((1, 4, 4, 8), 2, 2, "valid", False),  # fine: the control case
        ((1, 2, 2, 8), 2, 2, "valid", False),  # the whole input: XNNPACK's global average
        ((1, 4, 4, 8), 1, 1, "valid", False),  # 1x1: XNNPACK copies
    ],
)
def test_average_pools_unlike_xnnpacks_one_pass_kernel_keep_tflite_runtimes(
    shape, pool, stride, padding, kernel_refuses
) -> None:
    inputs = tf.keras.Input(shape[1:])
    layer = tf.keras.layers.AveragePooling2D(_pair(pool), _pair(stride), padding=padding)
    flatbuffer = convert(tf.keras.Model(inputs, layer(inputs)))
    tf.keras.backend.clear_session()
    rewritten, _ = fusion.fuse(flatbuffer)
    control = shape == (1, 4, 4, 8) and pool == 2
    expected = fusion.FLOAT_AVERAGE_POOL if control else "AVERAGE_POOL_2D"
    assert [op.op_type for op in read_operators(rewritten)] == [expected]
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    if kernel_refuses:
        with pytest.raises(UserError, match="lbe_avgpool2d_f32 refused"):
            float_kernels.avgpool2d(x, _pair(pool), _pair(stride), padding)
    assert (
        EngineInterpreter(flatbuffer).predict(x).tobytes()
        == EngineInterpreter(flatbuffer, fuse=False).predict(x).tobytes()
    )
