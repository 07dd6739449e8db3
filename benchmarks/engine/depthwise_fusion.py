"""The engine's rewrite of LAB's binarizer: a float32 `DEPTHWISE_CONV_2D` whose only reader is an
`LceQuantize` becomes one custom op, `LabBnnDepthwiseQuantize`, at the depthwise conv's position
(its three inputs, its options as FlexBuffers, the LceQuantize's int32 output). LAB binarizes
sign(x − depthwise(x)), which LCE converts to exactly this pair, once in every LabBNN block.

The engine computes the depthwise conv with XNNPACK's arithmetic (bias first, then one fused
multiply-add per tap, column by column; `csrc/depthwise.c`), the kernel tflite-runtime runs it
with, so the bits equal those of the two ops. Fusing them keeps a LabBNN block's ops all on the
engine: XNNPACK's delegate lets its worker threads sleep at the end of every partition it runs,
and the op after a partition waits for them to wake."""

from typing import Dict, List, Optional

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

from benchmarks.engine.graph_edit import (
    ENGINE_ACTIVATIONS,
    become_custom,
    builtin,
    constant_data,
    drop_tensors,
    graph_outputs,
    is_custom,
    quantized,
    readers,
    shape,
)

DEPTHWISE_QUANTIZE = "LabBnnDepthwiseQuantize"
MAX_TAPS = 64  # the kernel's limit (csrc/depthwise.c)


def _constant(model: schema.ModelT, tensor: schema.TensorT, elements: int) -> bool:
    data = constant_data(model, tensor)
    return data is not None and len(data) == 4 * elements and tensor.type == schema.TensorType.FLOAT32


def _fusable(model: schema.ModelT, op: schema.OperatorT) -> bool:
    """A float32 DEPTHWISE_CONV_2D with depth multiplier 1, a constant filter (and bias, if any) and
    an activation the engine applies."""
    tensors = model.subgraphs[0].tensors
    options = op.builtinOptions
    if (
        not isinstance(options, schema.DepthwiseConv2DOptionsT)
        or options.fusedActivationFunction not in ENGINE_ACTIVATIONS
    ):
        return False
    if op.inputs is None or len(op.inputs) not in (2, 3) or op.outputs is None or len(op.outputs) != 1:
        return False
    x, filter_, y = tensors[int(op.inputs[0])], tensors[int(op.inputs[1])], tensors[int(op.outputs[0])]
    if any(
        t.type != schema.TensorType.FLOAT32 or quantized(t) or len(shape(t)) != 4 for t in (x, filter_, y)
    ):
        return False
    channels = shape(x)[3]
    one, kh, kw, filter_channels = shape(filter_)
    if one != 1 or filter_channels != channels or shape(y)[3] != channels or not 1 <= kh * kw <= MAX_TAPS:
        return False
    if not _constant(model, filter_, kh * kw * channels):
        return False
    bias = int(op.inputs[2]) if len(op.inputs) == 3 else -1
    return bias < 0 or (shape(tensors[bias]) == (channels,) and _constant(model, tensors[bias], channels))


def _options(op: schema.OperatorT) -> dict:
    options = op.builtinOptions
    return {
        "stride_height": int(options.strideH),
        "stride_width": int(options.strideW),
        "dilation_height_factor": int(options.dilationHFactor or 1),
        "dilation_width_factor": int(options.dilationWFactor or 1),
        "padding": int(options.padding),
        "fused_activation_function": int(options.fusedActivationFunction),
    }


def fuse_depthwise_quantize(
    model: schema.ModelT, origin: List[int], absorbed: Optional[Dict[int, int]] = None
) -> List[int]:
    """Fuse every DEPTHWISE_CONV_2D → LceQuantize pair of subgraph 0 in place.

    `origin` gives, for each operator of the graph as it is, the index of the operator of the
    original flatbuffer it came from; returns that list for the rewritten graph. `absorbed`, when
    given, gets {LceQuantize's original index: its DEPTHWISE_CONV_2D's original index}.
    """
    graph = model.subgraphs[0]
    operators, codes = graph.operators or [], model.operatorCodes or []
    reading, outputs = readers(graph), graph_outputs(graph)
    quantize_of: Dict[int, int] = {}  # depthwise index -> the LceQuantize fused into it
    for index, op in enumerate(operators):
        if builtin(codes[op.opcodeIndex]) != schema.BuiltinOperator.DEPTHWISE_CONV_2D or not _fusable(
            model, op
        ):
            continue
        y = int(op.outputs[0])
        users = reading.get(y, [])
        if y in outputs or len(users) != 1 or not is_custom(codes, operators[users[0]], "LceQuantize"):
            continue
        quantize = operators[users[0]]
        if len(quantize.inputs) != 1 or quantize.outputs is None or len(quantize.outputs) != 1:
            continue
        if graph.tensors[int(quantize.outputs[0])].type != schema.TensorType.INT32:
            continue
        quantize_of[index] = users[0]
    if not quantize_of:
        return origin
    if absorbed is not None:
        absorbed.update({origin[q]: origin[dw] for dw, q in quantize_of.items()})
    dead_tensors = set()
    for index, quantize in quantize_of.items():
        op = operators[index]
        dead_tensors.add(int(op.outputs[0]))
        become_custom(model, op, DEPTHWISE_QUANTIZE, _options(op))
        op.outputs = np.array([int(operators[quantize].outputs[0])], np.int32)
    dead_ops = set(quantize_of.values())
    graph.operators = [op for index, op in enumerate(operators) if index not in dead_ops]
    drop_tensors(model, graph, dead_tensors)
    return [source for index, source in enumerate(origin) if index not in dead_ops]
