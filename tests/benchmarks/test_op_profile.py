"""profile_ops: every operator once, in order, timed beside the whole model."""

import numpy as np
import pytest

from benchmarks.flatbuffer_model import load_model
from benchmarks.kernel_paths import make_interpreter, random_inputs, run
from benchmarks.op_profile import profile_ops
from benchmarks.single_op_models import single_op_models
from converter import read_operators


@pytest.fixture(scope="module")
def profile(small_bnn_tflite):
    return profile_ops(small_bnn_tflite, runs=3, warmup=1, kernel="indirect_bgemm")


def test_every_operator_once_in_order_with_a_positive_time(profile, small_bnn_tflite):
    ops = read_operators(small_bnn_tflite)
    assert list(profile["index"]) == [op.index for op in ops]
    assert list(profile["op_type"]) == [op.op_type for op in ops]
    assert (profile["median_ms"] > 0).all()
    assert profile["share"].sum() == pytest.approx(1)
    assert set(profile.loc[profile.op_type == "LceBconv2d", "precision"]) == {"binary"}
    assert set(profile.loc[profile.op_type == "CONV_2D", "precision"]) == {"float"}


def test_whole_model_timed_in_the_same_run(profile):
    attrs = profile.attrs
    assert attrs["model_median_ms"] > 0
    assert attrs["sum_of_ops_ms"] == pytest.approx(profile["median_ms"].sum())
    assert (attrs["kernel"], attrs["threads"], attrs["runs"]) == ("indirect_bgemm", 1, 3)


def test_first_operator_alone_computes_the_models_first_tensor(small_bnn_tflite):
    """The stem conv cut out, on the model's input, against the same conv done by hand
    from its own weights (the whole model does not expose intermediate tensors)."""
    first = single_op_models(small_bnn_tflite)[0]
    assert first.op_type == "CONV_2D"
    whole = make_interpreter(small_bnn_tflite, "indirect_bgemm")
    (image,) = random_inputs(whole)
    (alone,) = run(make_interpreter(first.flatbuffer, "indirect_bgemm"), [image])
    kernel, bias = _constants(first.flatbuffer)  # (64, 3, 3, 1), (64,)
    padded = np.pad(image[0, :, :, 0], 1)
    patches = np.lib.stride_tricks.sliding_window_view(padded, (3, 3))  # (28, 28, 3, 3)
    expected = np.einsum("hwij,oij->hwo", patches, kernel[..., 0]) + bias
    np.testing.assert_allclose(alone[0], expected, rtol=1e-5, atol=1e-5)


def _constants(flatbuffer):
    model = load_model(flatbuffer)
    graph, op = model.subgraphs[0], model.subgraphs[0].operators[0]
    arrays = []
    for t in op.inputs[1:]:
        tensor = graph.tensors[t]
        arrays.append(model.buffers[tensor.buffer].data.view(np.float32).reshape(tensor.shape))
    return arrays


def test_unknown_kernel_is_a_value_error(small_bnn_tflite):
    with pytest.raises(ValueError, match=r"unknown kernel path 'gpu'"):
        profile_ops(small_bnn_tflite, runs=1, kernel="gpu")
