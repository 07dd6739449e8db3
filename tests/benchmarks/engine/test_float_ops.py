"""The engine's float ADD/MUL and strided copy equal NumPy's, split across threads or not, and
converted models' ADD, MUL, RESHAPE and STRIDED_SLICE (masks, negative indices, strides, every
fused activation) run on the engine with outputs equal to tflite-runtime's kernels bit for bit."""

from __future__ import annotations

from lab_bnn.errors import UserError

import numpy as np
import pytest
import tensorflow as tf

from benchmarks.engine import float_kernels, float_ops, fusion
from benchmarks.engine.interpreter import EngineInterpreter
from converter import convert, read_operators
from tests.benchmarks.engine.fused_vs_unfused import assert_builtin_replaced, assert_fused_equals_unfused

BOUNDS = {"none": (-np.inf, np.inf), "relu": (0.0, np.inf), "relu_n1_to_1": (-1.0, 1.0), "relu6": (0.0, 6.0)}
# (a's shape, b's shape): equal, one value a channel, a scalar, trailing dims with leading 1s;
# the first and last hold 64 Ki values or more, so at 2 threads the pool splits them
BROADCASTS = [((4, 128, 128), (4, 128, 128)), ((2, 5, 7, 64), (64,)), ((3, 4), ()), ((2, 300, 300), (1, 300))]


@pytest.mark.parametrize("shapes", BROADCASTS)
@pytest.mark.parametrize("threads", [1, 2])
def test_binary_equals_numpy_for_every_operation_and_activation(shapes, threads) -> None:
    rng = np.random.default_rng(len(shapes[0]))
    a = (rng.standard_normal(shapes[0]) * 4).astype(np.float32)
    b = (rng.standard_normal(shapes[1]) * 4).astype(np.float32)
    for operation, numpy_op in (("add", np.add), ("mul", np.multiply)):
        for activation, (lo, hi) in BOUNDS.items():
            expected = np.clip(numpy_op(a, b), lo, hi).astype(np.float32)
            got = float_kernels.binary(a, b, operation, activation, threads=threads)
            np.testing.assert_array_equal(got, expected, err_msg=f"{operation} {activation}")


@pytest.mark.parametrize("threads", [1, 2])
def test_strided_copy_equals_numpy_slicing(threads) -> None:
    rng = np.random.default_rng(threads)
    for trial in range(200):
        shape = tuple(int(d) for d in rng.integers(1, 7, rng.integers(1, 7)))
        dtype = (np.float32, np.int8, np.int64, np.float16)[trial % 4]
        x = (rng.standard_normal(shape) * 50).astype(dtype)
        begin = [int(rng.integers(0, d)) for d in shape]
        strides = [int(rng.integers(1, 4)) for _ in shape]
        expected = x[tuple(slice(b, None, s) for b, s in zip(begin, strides))]
        got = float_kernels.strided_copy(x, begin, strides, expected.shape, threads=threads)
        np.testing.assert_array_equal(got, expected, err_msg=f"{shape} {begin} {strides}")
    # BoolNet's channel halves, 1 MiB: the rows split across the pool
    x = rng.standard_normal((1, 64, 64, 4, 64)).astype(np.float32)
    for begin, strides in (([0, 0, 0, 0, 32], [1] * 5), ([0, 1, 0, 0, 0], [1, 2, 1, 1, 1])):
        expected = x[tuple(slice(b, None, s) for b, s in zip(begin, strides))]
        if begin[-1]:
            expected = expected[..., :32]
        got = float_kernels.strided_copy(x, begin, strides, expected.shape, threads=threads)
        np.testing.assert_array_equal(got, expected)


def test_bad_float_op_arguments_are_refused_clearly() -> None:
    a = np.zeros((2, 3), np.float32)
    with pytest.raises(
        UserError, match="b must be a scalar or a's trailing dimensions .*received shape \\(2,\\)"
    ):
        float_kernels.binary(a, np.zeros(2, np.float32))
    with pytest.raises(UserError, match="operation must be one of add, mul .*received 'sub'"):
        float_kernels.binary(a, a, "sub")
    with pytest.raises(UserError, match="a must be float32; received float64"):
        float_kernels.binary(a.astype(np.float64), a)
    with pytest.raises(UserError, match="reaches outside shape \\(2, 3\\)"):
        float_kernels.strided_copy(a, [1, 0], [1, 1], [2, 3])
    with pytest.raises(UserError, match="need 2 values each"):
        float_kernels.strided_copy(a, [0], [1], [1])


def _slices(t):
    """STRIDED_SLICEs with begin/end masks, negative and out-of-range indices and strides, flattened."""
    parts = [t[:, 1:-1:2, ::3, 4:], t[:, -3:, :2, -4:], t[:, :100, 1:, 2:6]]
    return tf.concat([tf.reshape(p, (-1, int(np.prod(p.shape[1:])))) for p in parts], axis=1)


@pytest.mark.parametrize("activation", sorted(BOUNDS))
def test_model_float_ops_equal_tflite_runtime_exactly(activation) -> None:
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((9, 8, 16))
    scale = tf.keras.layers.Lambda(lambda t: t * tf.range(16, dtype=tf.float32) + 0.5)(inputs)  # MUL, ADD
    act = tf.keras.layers.Activation(activation.replace("_n1_to_1", "") if activation != "none" else "linear")
    summed = tf.keras.layers.Add()([scale, inputs])
    y = act(summed) if activation in ("relu", "relu6") else summed
    if activation == "relu_n1_to_1":
        y = tf.keras.layers.Lambda(lambda t: tf.clip_by_value(t, -1.0, 1.0))(y)
    halves = tf.keras.layers.Reshape((9, 8, 2, 8))(y)  # RESHAPE
    y = tf.keras.layers.Lambda(lambda t: t[..., 1:, :] * t[..., :1, :])(halves)  # STRIDED_SLICE, MUL
    y = tf.keras.layers.Reshape((9, 8, 8))(y)
    y = tf.keras.layers.Lambda(_slices)(y)
    flatbuffer = convert(tf.keras.Model(inputs, y))
    tf.keras.backend.clear_session()
    for builtin, custom in (("ADD", float_ops.BINARY), ("MUL", float_ops.BINARY)):
        assert_builtin_replaced(flatbuffer, builtin, custom)
    for builtin, custom in (("RESHAPE", float_ops.RESHAPE), ("STRIDED_SLICE", float_ops.STRIDED_SLICE)):
        assert_builtin_replaced(flatbuffer, builtin, custom)
    x = np.random.default_rng(1).standard_normal((2, 9, 8, 16)).astype(np.float32)
    for (fused,) in assert_fused_equals_unfused(flatbuffer, x):
        assert np.isfinite(fused).all() and fused.shape[0] == 2


def test_ops_the_engine_cannot_run_stay_on_tflite_runtime() -> None:
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((6, 5))
    y = tf.keras.layers.Lambda(lambda t: t[:, ::-1, 1])(inputs)  # a negative stride, a shrink mask
    z = tf.keras.layers.Lambda(lambda t: t + tf.ones((4, 1, 5)))(inputs)  # broadcast along a leading dim
    flatbuffer = convert(tf.keras.Model(inputs, [y, z]))
    tf.keras.backend.clear_session()
    types = [op.op_type for op in read_operators(fusion.fuse(flatbuffer, chains=False)[0])]
    assert "STRIDED_SLICE" in types and "ADD" in types
    assert float_ops.STRIDED_SLICE not in types and float_ops.BINARY not in types
    assert_fused_equals_unfused(
        flatbuffer, np.random.default_rng(2).standard_normal((2, 6, 5)).astype(np.float32)
    )


def test_reshape_shares_its_input_buffer_and_copies_when_it_cannot() -> None:
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((4, 4, 8))
    doubled = tf.keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    inner = tf.keras.layers.Reshape((4, 32))(doubled)  # read by the Dense only: may share
    dense = tf.keras.layers.Dense(3)
    outer = tf.keras.layers.Reshape((16, 8))(
        tf.keras.layers.Lambda(lambda t: t - 1.0)(inputs)
    )  # a model output
    flatbuffer = convert(tf.keras.Model(inputs, [dense(inner), outer]))
    tf.keras.backend.clear_session()
    engine = EngineInterpreter(flatbuffer, threads=1)
    x = np.random.default_rng(3).standard_normal((1, 4, 4, 8)).astype(np.float32)
    results = engine.predict(x)
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(results[0], (x * 2.0).reshape(1, 4, 32) @ kernel + bias, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(results[1], (x - 1.0).reshape(1, 16, 8))

    def shared(op) -> bool:
        def address(index: int) -> int:
            return engine._tflite.tensor(index)().__array_interface__["data"][0]

        return address(op.inputs[0]) == address(op.outputs[0])

    reshapes = [op for op in read_operators(fusion.fuse(flatbuffer)[0]) if op.op_type == float_ops.RESHAPE]
    outputs = {d["index"] for d in engine._tflite.get_output_details()}
    # tflite-runtime read our registration's in-place flags: the inner one shares its input's
    # buffer and copies nothing; a model output keeps a buffer of its own, which the reshape fills
    assert len(reshapes) == 3 and {op.outputs[0] in outputs for op in reshapes} == {True, False}
    assert all(shared(op) == (op.outputs[0] not in outputs) for op in reshapes)
