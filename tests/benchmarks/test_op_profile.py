"""profile_ops: every operator once, in order, timed beside the whole model; on the engine,
the Lce ops by its own timers. No assertion on which path is faster."""

import numpy as np
import pytest

from benchmarks.engine import fusion, library
from benchmarks.engine.interpreter import EngineInterpreter
from benchmarks.flatbuffer_model import load_model
from benchmarks.kernel_paths import auto_engine_path, make_interpreter, random_inputs, run
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


@pytest.fixture(scope="module")
def engine_profile(small_bnn_tflite):
    return profile_ops(small_bnn_tflite, runs=3, warmup=1, kernel=auto_engine_path())


def test_engine_profile_names_its_path_and_level(engine_profile, small_bnn_tflite):
    level = library.engine_level()
    attrs = engine_profile.attrs
    assert (attrs["kernel"], attrs["engine_level"]) == (f"engine[{level}]", level)
    assert list(engine_profile["op_type"]) == [op.op_type for op in read_operators(small_bnn_tflite)]
    fused = engine_profile.timed_by.str.startswith("fused into op ")  # ADDs inside LabBnnBconv2dAdd
    assert (engine_profile["median_ms"][~fused] > 0).all() and (engine_profile["median_ms"][fused] == 0).all()
    assert engine_profile["share"].sum() == pytest.approx(1)


def test_engine_profile_rows_of_its_ops_come_from_its_timers_and_fit_in_the_whole_model(
    engine_profile, small_bnn_tflite
):
    lce = engine_profile.op_type.str.startswith("Lce")
    # the engine also runs float pools and MIRROR_PAD: the ops its rewrite turns into its own
    rewritten, origin = fusion.fuse(small_bnn_tflite)
    replaced = [origin[op.index] for op in read_operators(rewritten) if op.op_type in fusion.ENGINE_OPS]
    engine_ops = lce | engine_profile["index"].isin(replaced)
    assert lce.any() and (engine_ops & ~lce).any() and (~engine_ops).any()
    fused = engine_profile.timed_by.str.startswith("fused into op ")
    assert set(engine_profile.timed_by[engine_ops & ~fused]) == {"engine timer"}
    assert set(engine_profile.timed_by[~engine_ops & ~fused]) == {"one-op model"}  # float ops: inside XNNPACK
    # the engine fuses LceBconv2d -> ADD (-> LceQuantize): their time is in the bconv's (an engine timer) row
    bconvs = {int(t.rsplit(" ", 1)[1]) for t in engine_profile.timed_by[fused]}
    assert set(engine_profile.op_type[fused]) <= {"ADD", "LceQuantize", "PRELU"}
    assert all(engine_profile.op_type[i] == "LceBconv2d" for i in bconvs)
    # the timers run inside the whole-model inferences: their mean fits in the model's mean
    assert engine_profile.median_ms[engine_ops].sum() <= engine_profile.attrs["model_mean_ms"]


def test_engine_timers_are_reset_after_warmup_and_divided_by_runs(small_bnn_tflite, monkeypatch):
    absorbed = {}  # ops fused into another get 0 and name it: not timed here
    fusion.fuse(small_bnn_tflite, absorbed)
    lce = [
        op.index
        for op in read_operators(small_bnn_tflite)
        if op.op_type.startswith("Lce") and op.index not in absorbed
    ]
    resets = []
    monkeypatch.setattr(EngineInterpreter, "reset_op_times", lambda self: resets.append(self))
    # 1 ms per round for the first Lce op, 2 for the second, …: 4 rounds' worth of ns
    fake = [(index, "Lce", (i + 1) * 4 * 10**6) for i, index in enumerate(lce)]
    monkeypatch.setattr(EngineInterpreter, "op_times", lambda self: fake)
    profile = profile_ops(small_bnn_tflite, runs=4, warmup=2, kernel=auto_engine_path())
    assert len(resets) == 1
    rows = profile.set_index("index").loc[lce]
    assert rows.median_ms.tolist() == pytest.approx([i + 1 for i in range(len(lce))])


def test_lce_profile_has_no_engine_rows(profile):
    assert set(profile.timed_by) == {"one-op model"} and profile.attrs["engine_level"] is None
