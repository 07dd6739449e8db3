"""The engine's PACK equals NumPy's `stack` for every dtype, axis and input count, split across
threads or not, and a converted model with PACK (BoolNet's channel shuffle) runs on the engine
with outputs equal to tflite-runtime's own kernel bit for bit."""

from __future__ import annotations

from lab_bnn.errors import UserError

import numpy as np
import pytest
import tensorflow as tf

from benchmarks.engine import float_kernels, fusion
from converter import convert
from tests.benchmarks.engine.fused_vs_unfused import assert_builtin_replaced, assert_fused_equals_unfused

SHAPES = [(1, 4, 4, 3, 8), (5, 3), (7,), (2, 3, 1, 4)]
DTYPES = [np.float32, np.int32, np.int8, np.int64, np.float16, np.bool_]


@pytest.mark.parametrize("shape", SHAPES)
def test_pack_equals_numpy_stack_for_every_dtype_axis_and_count(shape) -> None:
    rng = np.random.default_rng(len(shape))
    for dtype in DTYPES:
        for count in (1, 2, 3):
            arrays = [(rng.standard_normal(shape) * 50).astype(dtype) for _ in range(count)]
            for axis in range(-len(shape) - 1, len(shape) + 1):
                got = float_kernels.pack(arrays, axis)
                assert got.dtype == arrays[0].dtype
                np.testing.assert_array_equal(got, np.stack(arrays, axis), err_msg=f"{dtype} {count} {axis}")


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("count", [2, 3])
def test_pack_split_across_threads_equals_numpy(threads, count) -> None:
    # 192 KiB an input: large enough (256 KiB in all) that the pool splits the rows
    arrays = [
        np.random.default_rng(i).standard_normal((2, 16, 16, 6, 32)).astype(np.float32) for i in range(count)
    ]
    for axis in (0, 3, 5, -1):
        np.testing.assert_array_equal(
            float_kernels.pack(arrays, axis, threads=threads), np.stack(arrays, axis)
        )


def test_bad_pack_arguments_are_refused_clearly() -> None:
    a = np.zeros((2, 3), np.float32)
    with pytest.raises(UserError, match=r"axis must lie in \[-3, 2\] for rank-2 arrays; received 3"):
        float_kernels.pack([a, a], 3)
    with pytest.raises(UserError, match="one or more arrays of one shape and dtype"):
        float_kernels.pack([a, a.astype(np.int32)])
    with pytest.raises(UserError, match="one or more arrays of one shape and dtype"):
        float_kernels.pack([a, a[:1]])
    with pytest.raises(UserError, match="one or more arrays"):
        float_kernels.pack([])


@pytest.mark.parametrize("axis", [-1, 1])
def test_model_with_pack_equals_tflite_runtime_exactly(axis) -> None:
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((6, 7, 64))
    halves = tf.keras.layers.Lambda(lambda t: tf.stack([t * 2.0, t - 1.0], axis=axis))(inputs)
    flatbuffer = convert(tf.keras.Model(inputs, tf.keras.layers.Reshape((6, -1))(halves)))
    tf.keras.backend.clear_session()
    assert_builtin_replaced(flatbuffer, "PACK", fusion.PACK)
    x = np.random.default_rng(1).standard_normal((2, 6, 7, 64)).astype(np.float32)
    expected = np.stack([x * 2.0, x - 1.0], axis=axis).reshape(2, 6, -1)
    for (fused,) in assert_fused_equals_unfused(flatbuffer, x):
        np.testing.assert_array_equal(fused, expected)
