"""BoolNet's multi-slice sign on the engine: the kernel equals a NumPy transcription of the four ops
LCE converts it to (TILE, ADD/SUB, LceQuantize, LceDequantize), and converted models with the chain
run fused with outputs equal to the unfused graph's (tflite-runtime's TILE and ADD) bit for bit."""

from __future__ import annotations

import lab_bnn
from lab_bnn.errors import UserError

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from benchmarks.engine import float_kernels, fusion, library
from converter import convert, read_operators
from tests.benchmarks.engine import numpy_lce_reference as ref
from tests.benchmarks.engine.fused_vs_unfused import assert_fused_equals_unfused

# (x shape, slices): channels a multiple of 16 (AVX-512's and AVX2's register paths), of 8 only (AVX2's; 24
# values leave the word's top byte unused) and neither, one and many slices; the last two hold 64 Ki values or
# more, so at 2 threads the pool splits their pixels
CASES = [((1, 16, 16, 32), 4), ((2, 5, 7, 33), 3), ((3, 100), 1), ((1, 4, 4, 48), 3), ((2, 9, 9, 64), 4)]
CASES += [((2, 5, 7, 24), 1), ((3, 40), 2)]
CASES += [((2, 32, 32, 64), 4), ((1, 30, 31, 33), 3)]


@pytest.mark.parametrize("level", library.supported_levels())
@pytest.mark.parametrize("shape, slices", CASES)
def test_kernel_equals_the_four_ops_in_numpy(shape, slices, level) -> None:
    rng = np.random.default_rng(slices)
    x = rng.standard_normal(shape).astype(np.float32)
    x[..., 0], x[..., 1], x[..., 2] = 0.0, -0.0, np.nan  # ties and NaN: x < 0 is false, so +1 and bit 0
    thresholds = rng.standard_normal(slices * shape[-1]).astype(np.float32)
    thresholds[:2] = 0.0
    tiled = np.tile(x, (1,) * (x.ndim - 1) + (slices,))
    for subtract in (True, False):
        values = tiled - thresholds if subtract else tiled + thresholds
        for threads in (1, 2):
            signs, bits = float_kernels.multi_slice_sign(
                x, thresholds, slices, subtract, level=level, threads=threads
            )
            np.testing.assert_array_equal(bits, ref.bitpack(values))
            np.testing.assert_array_equal(signs, np.where(values < 0, -1.0, 1.0).astype(np.float32))


def test_bad_arguments_are_refused_clearly() -> None:
    x = np.zeros((2, 8), np.float32)
    with pytest.raises(UserError, match=r"thresholds of shape \(slices \* channels,\); received slices=2"):
        float_kernels.multi_slice_sign(x, np.zeros(8, np.float32), 2)
    with pytest.raises(UserError, match="thresholds must be float32; received float64"):
        float_kernels.multi_slice_sign(x, np.zeros(16), 2)


# BatchNormSign converts to TILE -> SUB (its thresholds) -> LceQuantize, as in every BoolNet block
def _replicate(x):  # the ±1 signs are mirror-padded, so an LceDequantize follows
    signs = lab_bnn.layers.BatchNormSign(4)(x)
    return lab_bnn.layers.MultiSliceBinaryConv2D(32, 3, slices=4, padding_mode="replicate")(signs)


def _tiled_add(x):  # TILE -> ADD -> LceQuantize, the bits read by the binary conv directly
    offsets = tf.constant(np.linspace(-1, 1, 64), tf.float32)
    shifted = tf.keras.layers.Lambda(lambda t: tf.tile(t, [1, 1, 1, 2]) + offsets)(x)
    return _pad_one_conv(shifted)


def _pad_one_conv(x):
    return lq.layers.QuantConv2D(
        32, 3, padding="same", pad_values=1.0, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip", use_bias=False,
    )(x)  # fmt: skip


def _offsets_first(x):  # ADD(constant, TILE): either operand order is the same IEEE add
    offsets = tf.constant(np.linspace(-1, 1, 64), tf.float32)
    return _pad_one_conv(tf.keras.layers.Lambda(lambda t: offsets + tf.tile(t, [1, 1, 1, 2]))(x))


def _sum_is_an_output(x):  # the ADD's result is a model output too: the chain must stay as it is
    offsets = tf.constant(np.linspace(-1, 1, 64), tf.float32)
    shifted = tf.keras.layers.Lambda(lambda t: tf.tile(t, [1, 1, 1, 2]) + offsets)(x)
    return [_pad_one_conv(shifted), shifted]


def _tiled_rows(x):  # a TILE along H is not a multi-slice sign
    return _pad_one_conv(tf.keras.layers.Lambda(lambda t: tf.tile(t, [1, 2, 1, 1]) - 0.25)(x))


@pytest.mark.parametrize(
    "build, fused",
    [
        (_replicate, True),
        (_tiled_add, True),
        (_offsets_first, True),
        (_sum_is_an_output, False),
        (_tiled_rows, False),
    ],
)
def test_models_run_fused_with_the_unfused_outputs(build, fused) -> None:
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((6, 7, 32))
    model = tf.keras.Model(inputs, build(inputs))
    for layer in model.layers:  # BatchNormSign's thresholds away from their initial zeros
        if isinstance(layer, lab_bnn.layers.BatchNormSign):
            gamma, beta, mean, variance = layer.batch_norm.weights
            for weight, value in ((beta, 0.3), (mean, -0.2), (variance, 2.0)):
                weight.assign(np.random.default_rng(2).uniform(0.5, 1.5, weight.shape) * value)
    flatbuffer = convert(model)
    tf.keras.backend.clear_session()
    assert "TILE" in {op.op_type for op in read_operators(flatbuffer)}
    types = [op.op_type for op in read_operators(fusion.fuse(flatbuffer, chains=False)[0])]
    assert (fusion.MULTI_SLICE_SIGN in types) == fused and ("TILE" in types) != fused, types
    x = np.random.default_rng(1).standard_normal((2, 6, 7, 32)).astype(np.float32)
    assert_fused_equals_unfused(flatbuffer, x)
