"""One-op models compute exactly what their operator computes inside the whole graph."""

import numpy as np

from benchmarks.flatbuffer_model import load_model
from benchmarks.kernel_paths import make_interpreter, random_inputs, run
from benchmarks.single_op_models import single_op_models
from converter import read_operators

KERNEL = "indirect_bgemm"  # no XNNPACK: bit-exact float ops in and out of the graph


def test_one_model_per_operator_in_order(small_bnn_tflite):
    cuts = single_op_models(small_bnn_tflite)
    assert [c.op_type for c in cuts] == [op.op_type for op in read_operators(small_bnn_tflite)]
    assert [c.index for c in cuts] == list(range(len(cuts)))
    for cut in cuts:
        (op,) = read_operators(cut.flatbuffer)
        assert op.op_type == cut.op_type
        assert len(cut.flatbuffer) < len(small_bnn_tflite)


def test_chained_one_op_models_reproduce_the_model(small_bnn_tflite):
    """Feed each cut model the tensors its predecessors produced: every operator's
    output is then checked against what the next ones need, and the last against the
    whole model's output."""
    graph = load_model(small_bnn_tflite).subgraphs[0]
    whole = make_interpreter(small_bnn_tflite, KERNEL)
    inputs = random_inputs(whole)
    tensors = dict(zip((int(t) for t in graph.inputs), inputs))
    for cut in single_op_models(small_bnn_tflite):
        outputs = run(make_interpreter(cut.flatbuffer, KERNEL), [tensors[t] for t in cut.inputs])
        tensors.update(zip(cut.outputs, outputs))
    expected = run(whole, inputs)
    for t, want in zip((int(t) for t in graph.outputs), expected):
        np.testing.assert_array_equal(tensors[t], want)
