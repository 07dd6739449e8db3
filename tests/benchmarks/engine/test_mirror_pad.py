"""The engine's MIRROR_PAD equals NumPy's reflect/symmetric padding (TFLite's REFLECT/SYMMETRIC)
for every dtype and rank, and a converted model with MIRROR_PAD runs on the engine with outputs
equal to tflite-runtime's own kernel bit for bit."""

from __future__ import annotations

from lab_bnn.errors import UserError

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from benchmarks.engine import float_kernels, fusion
from converter import convert
from tests.benchmarks.engine.fused_vs_unfused import assert_builtin_replaced, assert_fused_equals_unfused

CASES = [
    ((2, 5, 6, 7), [[0, 0], [1, 1], [1, 1], [0, 0]]),  # BoolNet's: H and W of NHWC
    ((1, 4, 3, 5), [[1, 0], [2, 1], [0, 2], [0, 0]]),
    ((3, 4, 9), [[0, 0], [0, 0], [3, 2]]),  # only the last dimension: element runs
    ((6,), [[2, 3]]),
    ((2, 2, 2, 2, 2), [[1, 1], [1, 0], [0, 1], [1, 1], [0, 0]]),
]
DTYPES = [np.float32, np.int32, np.int8, np.uint8, np.int64, np.bool_, np.float16]


@pytest.mark.parametrize("mode", ["reflect", "symmetric"])
@pytest.mark.parametrize("shape, paddings", CASES)
def test_mirror_pad_equals_numpy_for_every_dtype(shape, paddings, mode) -> None:
    rng = np.random.default_rng(len(shape))
    if mode == "reflect":  # REFLECT allows at most dimension - 1
        paddings = [[min(a, n - 1), min(b, n - 1)] for n, (a, b) in zip(shape, paddings)]
    for dtype in DTYPES:
        x = (rng.standard_normal(shape) * 50).astype(dtype)
        got = float_kernels.mirror_pad(x, paddings, mode)
        assert got.dtype == x.dtype
        np.testing.assert_array_equal(got, np.pad(x, paddings, mode=mode), err_msg=str(dtype))


def test_paddings_beyond_the_mode_limit_are_refused_clearly() -> None:
    x = np.zeros((1, 3, 3, 2), np.float32)
    with pytest.raises(UserError, match=r"reflect paddings must lie in \[0, the dimension - 1\]"):
        float_kernels.mirror_pad(x, [[0, 0], [3, 0], [0, 0], [0, 0]], "reflect")
    assert float_kernels.mirror_pad(x, [[0, 0], [3, 0], [0, 0], [0, 0]], "symmetric").shape == (1, 6, 3, 2)
    with pytest.raises(UserError, match="mode must be one of reflect, symmetric; received 'edge'"):
        float_kernels.mirror_pad(x, [[0, 0]] * 4, "edge")
    with pytest.raises(UserError, match=r"paddings must have shape \(4, 2\)"):
        float_kernels.mirror_pad(x, [[1, 1]] * 3)


@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
def test_model_with_mirror_pad_equals_tflite_runtime_exactly(mode) -> None:
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((6, 7, 64))
    padded = tf.keras.layers.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 1], [1, 1], [0, 0]], mode=mode))(inputs)
    conv = lq.layers.QuantConv2D(
        32, 3, input_quantizer="ste_sign", kernel_quantizer="ste_sign", use_bias=False
    )
    flatbuffer = convert(tf.keras.Model(inputs, conv(padded)))
    tf.keras.backend.clear_session()
    assert_builtin_replaced(flatbuffer, "MIRROR_PAD", fusion.MIRROR_PAD)
    x = np.random.default_rng(1).standard_normal((2, 6, 7, 64)).astype(np.float32)
    assert_fused_equals_unfused(flatbuffer, x)
