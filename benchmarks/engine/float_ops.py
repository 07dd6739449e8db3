"""The engine's takeover of small float and data-movement ops: every float32 `ADD` and `MUL`
(same shapes, or one operand a scalar or the other's trailing dimensions; fused activation
NONE/RELU/RELU_N1_TO_1/RELU6), every `RESHAPE` whose output shape is known, and every
`STRIDED_SLICE` with constant int32 begin, end and strides >= 1 (begin and end masks only)
becomes `LabBnnBinary`, `LabBnnReshape` or `LabBnnStridedSlice` in place.

Why: between its binary convs a converted BoolNet runs ~50 such ops on maps of 32-256 KiB. On
XNNPACK each group of them is a partition of its own that, at 2 threads, splits every op across
both threads and moves the maps between the cores; the engine runs maps under 64 Ki values on
the calling thread and larger ones split by rows, as its other ops. ADD and MUL are one IEEE
operation per value with TFLite's clamp, and the other two copy bytes (`csrc/elementwise.c`,
`csrc/strided_copy.c`), so the outputs equal tflite-runtime's bit for bit. Runs after the
fusions that absorb ADDs (`fusion.fuse`).
"""

from typing import Optional

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

from benchmarks.engine.graph_edit import (
    ENGINE_ACTIVATIONS,
    ITEM_BYTES,
    become_custom,
    builtin,
    builtin_ops,
    constant_ints,
    quantized,
    shape,
)

BINARY = "LabBnnBinary"
RESHAPE = "LabBnnReshape"
STRIDED_SLICE = "LabBnnStridedSlice"
_OPERATIONS = {schema.BuiltinOperator.ADD: 0, schema.BuiltinOperator.MUL: 1}
_OPTIONS = {schema.BuiltinOperator.ADD: schema.AddOptionsT, schema.BuiltinOperator.MUL: schema.MulOptionsT}
_FLOAT = schema.TensorType.FLOAT32


def trailing_dims(dims) -> tuple:
    """`dims` without its leading 1s: what a broadcast operand repeats along the other."""
    dims = tuple(dims)
    while dims and dims[0] == 1:
        dims = dims[1:]
    return dims


def _broadcasts(full, part) -> bool:
    """`part` (leading 1s dropped) is a suffix of `full`, as the engine's kernel repeats it."""
    trimmed = trailing_dims(part)
    return len(part) <= len(full) and tuple(full[len(full) - len(trimmed) :]) == trimmed


def _binary_inputs(tensors, op) -> Optional[list]:
    """The inputs of a float32 ADD/MUL the engine can run, the full-shaped one first, or None."""
    if op.inputs is None or len(op.inputs) != 2 or op.outputs is None or len(op.outputs) != 1:
        return None
    ends = [tensors[int(t)] for t in (*op.inputs, *op.outputs) if int(t) >= 0]
    if len(ends) != 3 or any(t.type != _FLOAT or quantized(t) for t in ends):
        return None
    a, b, out = (shape(t) for t in ends)
    if int(np.prod(b)) > int(np.prod(a)):
        a, b, op_inputs = b, a, [int(op.inputs[1]), int(op.inputs[0])]
    else:
        op_inputs = [int(op.inputs[0]), int(op.inputs[1])]
    if a != out or not 1 <= len(a) <= 8 or int(np.prod(b)) < 1 or not _broadcasts(a, b):
        return None
    return op_inputs


def replace_binary_ops(model: schema.ModelT) -> int:
    """Turn every float32 ADD/MUL of subgraph 0 the engine can run into LabBnnBinary in place."""
    graph, codes = model.subgraphs[0], model.operatorCodes or []
    replaced = 0
    for op in graph.operators or []:
        kind = builtin(codes[op.opcodeIndex])
        if kind not in _OPERATIONS:
            continue
        options = op.builtinOptions
        activation = options.fusedActivationFunction if isinstance(options, _OPTIONS[kind]) else 0
        inputs = _binary_inputs(graph.tensors, op)
        if inputs is None or activation not in ENGINE_ACTIVATIONS:
            continue
        op.inputs = np.array(inputs, np.int32)
        become_custom(
            model, op, BINARY, {"operation": _OPERATIONS[kind], "fused_activation_function": int(activation)}
        )
        replaced += 1
    return replaced


def replace_reshapes(model: schema.ModelT) -> int:
    """Turn every RESHAPE of subgraph 0 whose output shape is known (unquantized, the input's
    element count) into LabBnnReshape in place, its shape input dropped (the engine runs the
    shapes the flatbuffer gives; `EngineInterpreter` never resizes inputs)."""
    graph = model.subgraphs[0]
    replaced = 0
    for op in builtin_ops(model, schema.BuiltinOperator.RESHAPE):
        if op.inputs is None or not 1 <= len(op.inputs) <= 2 or op.outputs is None or len(op.outputs) != 1:
            continue
        x, y = graph.tensors[int(op.inputs[0])], graph.tensors[int(op.outputs[0])]
        if x.type != y.type or x.type not in ITEM_BYTES or quantized(x) or quantized(y):
            continue
        if not shape(x) or any(d < 1 for d in shape(y)):
            continue
        if int(np.prod(shape(x))) != int(np.prod(shape(y))):
            continue
        op.inputs = np.array([int(op.inputs[0])], np.int32)
        become_custom(model, op, RESHAPE, {})
        replaced += 1
    return replaced


def replace_strided_slices(model: schema.ModelT) -> int:
    """Turn every STRIDED_SLICE of subgraph 0 with constant int32 begin/end/strides (one value a
    dimension, strides >= 1), no ellipsis, new-axis or shrink mask and no offset into
    LabBnnStridedSlice in place (options: its begin and end masks)."""
    graph = model.subgraphs[0]
    replaced = 0
    for op in builtin_ops(model, schema.BuiltinOperator.STRIDED_SLICE):
        if op.inputs is None or len(op.inputs) != 4 or op.outputs is None or len(op.outputs) != 1:
            continue
        x, y = graph.tensors[int(op.inputs[0])], graph.tensors[int(op.outputs[0])]
        rank = len(shape(x))
        bounds = [graph.tensors[int(t)] for t in op.inputs[1:]]
        values = [constant_ints(model, t) if t.type == schema.TensorType.INT32 else None for t in bounds]
        if any(v is None or len(v) != rank for v in values) or not 1 <= rank <= 8 or np.any(values[2] < 1):
            continue
        if x.type != y.type or x.type not in ITEM_BYTES or quantized(x) or quantized(y):
            continue
        o = op.builtinOptions
        if not isinstance(o, schema.StridedSliceOptionsT):
            o = schema.StridedSliceOptionsT()
        if o.ellipsisMask or o.newAxisMask or o.shrinkAxisMask or getattr(o, "offset", False):
            continue
        become_custom(model, op, STRIDED_SLICE, {"begin_mask": int(o.beginMask), "end_mask": int(o.endMask)})
        replaced += 1
    return replaced


def replace_float_ops(model: schema.ModelT) -> int:
    """All three rewrites; returns how many ops they replaced."""
    return replace_binary_ops(model) + replace_reshapes(model) + replace_strided_slices(model)
