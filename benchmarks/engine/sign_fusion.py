"""The engine's rewrite of BoolNet's multi-slice sign: LCE converts it to `TILE` (k copies along the
channels) → `ADD` or `SUB` of a constant [k · C] → `LceQuantize` → `LceDequantize`, four ops per
binary conv (the first a single-threaded builtin, the second an XNNPACK partition of its own). The
chain becomes one custom op, `LabBnnMultiSliceSign`, at the TILE's position: inputs the TILE's input
and the constant; outputs the LceDequantize's (±1 floats) when there is one, then the LceQuantize's
(int32 words) when anything else reads them; options `slices` (k) and `subtract`.

The engine computes the same float32 add or subtract per value, then packs and unpacks with its own
LceQuantize and LceDequantize (`csrc/multi_slice_sign.c`), so the outputs equal the four ops' bit for
bit."""

from typing import Dict, List, Optional, Tuple

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

from benchmarks.engine.graph_edit import (
    become_custom,
    builtin,
    constant_data,
    constant_ints,
    drop_tensors,
    graph_outputs,
    is_custom,
    quantized,
    readers,
    shape,
)

MULTI_SLICE_SIGN = "LabBnnMultiSliceSign"
_ARITHMETIC = {schema.BuiltinOperator.ADD: 0, schema.BuiltinOperator.SUB: 1}


def _slices(model: schema.ModelT, tile: schema.OperatorT) -> Optional[int]:
    """k when `tile` is a float32 TILE that copies its input k times along the last axis only."""
    tensors = model.subgraphs[0].tensors
    if tile.inputs is None or len(tile.inputs) != 2 or tile.outputs is None or len(tile.outputs) != 1:
        return None
    x, multiples = tensors[int(tile.inputs[0])], tensors[int(tile.inputs[1])]
    values = constant_ints(model, multiples)
    if x.type != schema.TensorType.FLOAT32 or quantized(x) or not shape(x) or values is None:
        return None
    if len(values) != len(shape(x)):
        return None
    return int(values[-1]) if values[-1] >= 1 and all(v == 1 for v in values[:-1]) else None


def _arithmetic(model, op, tiled: int, width: int) -> Optional[Tuple[int, int]]:
    """(thresholds tensor, subtract) when `op` is an ADD (either order) or SUB (tiled first) of the
    tiled tensor and a constant float32 [width] (leading dimensions 1), with no fused activation."""
    codes, tensors = model.operatorCodes, model.subgraphs[0].tensors
    kind = _ARITHMETIC.get(builtin(codes[op.opcodeIndex]))
    if kind is None or op.inputs is None or len(op.inputs) != 2 or op.outputs is None or len(op.outputs) != 1:
        return None
    options = op.builtinOptions
    if options is not None and getattr(options, "fusedActivationFunction", 0) != 0:
        return None
    a, b = (int(t) for t in op.inputs)
    if a == b or tiled not in (a, b) or (kind == 1 and a != tiled):
        return None
    other = b if a == tiled else a
    t = tensors[other]
    dims = shape(t)
    if t.type != schema.TensorType.FLOAT32 or quantized(t) or not dims or dims[-1] != width:
        return None
    data = constant_data(model, t)
    if data is None or len(data) != 4 * width or any(d != 1 for d in dims[:-1]):
        return None
    if shape(tensors[int(op.outputs[0])]) != shape(tensors[tiled]):
        return None
    return other, kind


def fuse_multi_slice_sign(
    model: schema.ModelT, origin: List[int], absorbed: Optional[Dict[int, int]] = None
) -> List[int]:
    """Fuse every TILE → ADD/SUB → LceQuantize [→ LceDequantize] chain of subgraph 0 in place.

    `origin` gives, for each operator of the graph as it is, the index of the operator of the
    original flatbuffer it came from; returns that list for the rewritten graph. `absorbed`, when
    given, gets {original index of each absorbed op: its TILE's original index}.
    """
    graph = model.subgraphs[0]
    operators, codes, tensors = graph.operators or [], model.operatorCodes or [], graph.tensors or []
    reading, outputs = readers(graph), graph_outputs(graph)

    def only_reader(tensor: int) -> Optional[int]:
        users = reading.get(tensor, [])
        return users[0] if len(users) == 1 and tensor not in outputs else None

    # TILE index -> (arithmetic, quantize, dequantize or None, thresholds, subtract, slices, keep bits)
    chains = {}
    for index, op in enumerate(operators):
        if builtin(codes[op.opcodeIndex]) != schema.BuiltinOperator.TILE:
            continue
        slices = _slices(model, op)
        tiled = int(op.outputs[0]) if slices and shape(tensors[int(op.outputs[0])]) else -1
        arithmetic = only_reader(tiled) if slices else None
        if arithmetic is None:
            continue
        found = _arithmetic(model, operators[arithmetic], tiled, shape(tensors[tiled])[-1])
        quantize = only_reader(int(operators[arithmetic].outputs[0])) if found else None
        if quantize is None or not is_custom(codes, operators[quantize], "LceQuantize"):
            continue
        q = operators[quantize]
        if len(q.inputs) != 1 or q.outputs is None or len(q.outputs) != 1:
            continue
        bits = int(q.outputs[0])
        if tensors[bits].type != schema.TensorType.INT32:
            continue
        users = reading.get(bits, [])
        dequantize = next(
            (
                u
                for u in users
                if is_custom(codes, operators[u], "LceDequantize")
                and len(operators[u].outputs) == 1
                and tensors[int(operators[u].outputs[0])].type == schema.TensorType.FLOAT32
                and shape(tensors[int(operators[u].outputs[0])]) == shape(tensors[tiled])
            ),
            None,
        )
        keep_bits = dequantize is None or len(users) > 1 or bits in outputs
        chains[index] = (arithmetic, quantize, dequantize, *found, slices, keep_bits)
    if not chains:
        return origin
    dead_ops, dead_tensors = set(), set()
    for index, (arithmetic, quantize, dequantize, thresholds, subtract, slices, keep_bits) in chains.items():
        tile = operators[index]
        absorbed_here = [arithmetic, quantize] + ([dequantize] if dequantize is not None else [])
        dead_ops.update(absorbed_here)
        if absorbed is not None:
            absorbed.update({origin[i]: origin[index] for i in absorbed_here})
        bits = int(operators[quantize].outputs[0])
        dead_tensors.update({int(tile.outputs[0]), int(operators[arithmetic].outputs[0])})
        if not keep_bits:
            dead_tensors.add(bits)
        signs = [int(operators[dequantize].outputs[0])] if dequantize is not None else []
        become_custom(model, tile, MULTI_SLICE_SIGN, {"slices": slices, "subtract": subtract})
        tile.inputs = np.array([int(tile.inputs[0]), thresholds], np.int32)
        tile.outputs = np.array(signs + ([bits] if keep_bits else []), np.int32)
    graph.operators = [op for index, op in enumerate(operators) if index not in dead_ops]
    drop_tensors(model, graph, dead_tensors)
    return [source for index, source in enumerate(origin) if index not in dead_ops]
