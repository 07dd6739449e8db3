"""The engine's DEPTHWISE_CONV_2D with LceQuantize fused (LAB's binarizer): its floats equal
tflite-runtime's own kernel (XNNPACK) bit for bit, NaN and signed zeros included, and its bits are
LceQuantize of those floats, at every level here and 1/2 threads; the rewrite turns a converted
depthwise conv → LceQuantize pair into one op with the unfused model's outputs."""

from __future__ import annotations

from lab_bnn.errors import UserError

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from benchmarks.engine import float_kernels, fusion, library
from benchmarks.engine.interpreter import EngineInterpreter
from converter import convert, read_operators
from tests.benchmarks.engine import numpy_lce_reference as ref

LEVELS = library.supported_levels()
# name: (batch, h, w, channels, kernel, stride, padding, dilation, use_bias, activation)
CASES = {
    "lab_3x3_same": (1, 9, 9, 64, 3, 1, "same", 1, True, None),
    "odd_channels_stride_2": (2, 8, 7, 37, 3, 2, "same", 1, True, None),
    "kernel_5x5_few_channels": (1, 6, 6, 20, 5, 1, "same", 1, True, None),
    "valid_no_bias": (1, 7, 7, 16, 3, 1, "valid", 1, False, None),
    "kernel_3x1_wide_row": (1, 5, 19, 48, (3, 1), 1, "same", 1, True, None),
    "dilation_2": (1, 8, 8, 16, 3, 1, "same", 2, True, None),
    "relu6": (1, 6, 6, 32, 3, 1, "same", 1, True, "relu6"),
    "map_narrower_than_eight": (1, 7, 7, 96, 3, 1, "same", 1, True, None),
}


def _one_op_model(name: str, rng) -> tuple:
    """A converted one-op DEPTHWISE_CONV_2D model of case `name`, its filter [kh, kw, C] and bias."""
    batch, h, w, channels, kernel, stride, padding, dilation, use_bias, activation = CASES[name]
    inputs = tf.keras.Input((h, w, channels))
    layer = tf.keras.layers.DepthwiseConv2D(
        kernel, stride, padding=padding, dilation_rate=dilation, use_bias=use_bias, activation=activation
    )
    model = tf.keras.Model(inputs, layer(inputs))
    weights = [rng.standard_normal(v.shape).astype(np.float32) for v in layer.weights]
    layer.set_weights(weights)
    flatbuffer = convert(model)
    tf.keras.backend.clear_session()
    return flatbuffer, weights[0][:, :, :, 0], weights[1] if use_bias else None


def _input(name: str, rng) -> np.ndarray:
    batch, h, w, channels = CASES[name][:4]
    x = rng.standard_normal((batch, h, w, channels)).astype(np.float32)
    x.flat[::7], x.flat[5] = -0.0, np.nan
    return x


@pytest.mark.parametrize("name", CASES)
def test_floats_equal_tflite_runtimes_kernel_and_bits_are_their_lce_quantize(name: str) -> None:
    rng = np.random.default_rng(len(name))
    flatbuffer, filter_, bias = _one_op_model(name, rng)
    x = _input(name, rng)
    xnnpack = EngineInterpreter(flatbuffer, fuse=False).predict(x)  # tflite-runtime's own kernel
    _, _, _, _, kernel, stride, padding, dilation, _, activation = CASES[name]
    for level in LEVELS:
        for threads in (1, 2):
            out, bits = float_kernels.depthwise2d(
                x, filter_, bias, (stride, stride), padding, (dilation, dilation), activation or "none",
                level=level, threads=threads,
            )  # fmt: skip
            assert out.tobytes() == xnnpack.tobytes(), (level, threads)
            np.testing.assert_array_equal(bits, ref.bitpack(xnnpack), err_msg=f"{level} {threads}")
    if activation is None:  # both signs occur (relu6 leaves none negative)
        assert (ref.bitpack(xnnpack) != 0).any() and (ref.bitpack(xnnpack) != -1).any()


def _lab_like_model(channels: int = 40) -> bytes:
    """A depthwise conv whose only reader is a binary conv's input quantizer (LAB's pattern), and one
    whose output is also read by an ADD (not fused)."""
    inputs = tf.keras.Input((8, 8, channels))
    binarized = tf.keras.layers.DepthwiseConv2D(3, padding="same")(inputs)
    y = lq.layers.QuantConv2D(
        channels, 3, padding="same", input_quantizer="ste_sign", kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip", use_bias=False,
    )(binarized)  # fmt: skip
    shared = tf.keras.layers.DepthwiseConv2D(3, padding="same")(y)
    z = lq.layers.QuantConv2D(
        channels, 3, padding="same", input_quantizer="ste_sign", kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip", use_bias=False,
    )(shared)  # fmt: skip
    flatbuffer = convert(tf.keras.Model(inputs, tf.keras.layers.Add()([z, shared])))
    tf.keras.backend.clear_session()
    return flatbuffer


def test_rewrite_fuses_only_a_depthwise_conv_read_by_nothing_but_lce_quantize() -> None:
    tf.keras.utils.set_random_seed(3)
    flatbuffer = _lab_like_model()
    before = read_operators(flatbuffer)
    fused, origin = fusion.fuse(flatbuffer)
    after = read_operators(fused)
    depthwise = [op for op in after if op.op_type == fusion.DEPTHWISE_QUANTIZE]
    assert len(depthwise) == 1 and before[origin[depthwise[0].index]].op_type == "DEPTHWISE_CONV_2D"
    assert [op.op_type for op in after].count("DEPTHWISE_CONV_2D") == 1  # the one the ADD also reads
    absorbed = {}
    fusion.fuse(flatbuffer, absorbed)
    quantizes = [i for i, source in absorbed.items() if source == origin[depthwise[0].index]]
    assert [before[i].op_type for i in quantizes] == ["LceQuantize"]
    x = np.random.default_rng(4).standard_normal((2, 8, 8, 40)).astype(np.float32)
    unfused = EngineInterpreter(flatbuffer, fuse=False).predict(x)
    for level in LEVELS:
        for threads in (1, 2):
            got = EngineInterpreter(flatbuffer, level=level, threads=threads).predict(x)
            assert got.tobytes() == unfused.tobytes(), (level, threads)


def test_bad_arguments_are_refused_clearly() -> None:
    x = np.zeros((1, 4, 4, 8), np.float32)
    with pytest.raises(UserError, match=r"filter must have shape \[kh, kw, 8\]; received \(3, 3, 4\)"):
        float_kernels.depthwise2d(x, np.zeros((3, 3, 4), np.float32))
    with pytest.raises(UserError, match="padding 'same' or 'valid'; received 'none', 'full'"):
        float_kernels.depthwise2d(x, np.zeros((3, 3, 8), np.float32), padding="full")
    with pytest.raises(UserError, match=r"bias must have shape \(8,\)"):
        float_kernels.depthwise2d(x, np.zeros((3, 3, 8), np.float32), np.zeros(3, np.float32))
