"""The engine's reordering of BoolNet's padded binary-conv inputs: `MIRROR_PAD` (float maps, H and W
padded) → `LceQuantize` becomes `LceQuantize` → `MIRROR_PAD` of the packed words.

LceQuantize packs each pixel's channel vector on its own, and a mirror pad that leaves the last
axis alone copies whole pixels, so packing then padding gives the same words as padding then
packing. The engine then packs H·W pixels instead of (H+2)·(W+2) and pads 1/32 of the bytes:
BoolNet 64² pads 16 maps of 128-512 floats a pixel before each binary conv.

Conditions: constant paddings with none on the last axis, and the LceQuantize (one int32 output)
the pad's only reader, the padded map no model output. The LceQuantize moves to the pad's position
and writes a new int32 tensor [..., words] that the pad reads; the pad writes the LceQuantize's old
output, so every later reader is unchanged.
"""

import copy
from typing import List

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

from benchmarks.engine.graph_edit import (
    builtin,
    constant_ints,
    drop_tensors,
    graph_outputs,
    is_custom,
    readers,
    shape,
)


def _last_axis_unpadded(model: schema.ModelT, pad: schema.OperatorT) -> bool:
    tensors = model.subgraphs[0].tensors
    x, paddings = tensors[int(pad.inputs[0])], tensors[int(pad.inputs[1])]
    values, rank = constant_ints(model, paddings), len(shape(x))
    if values is None or rank < 1 or len(values) != 2 * rank:
        return False
    return bool(values[-2] == 0 and values[-1] == 0)  # [rank, 2]: the last axis's before and after


def quantize_before_mirror_pad(model: schema.ModelT, origin: List[int]) -> List[int]:
    """Reorder every MIRROR_PAD → LceQuantize pair of subgraph 0 in place (see the module text).

    `origin` gives, for each operator of the graph as it is, the index of the operator of the
    original flatbuffer it came from; returns that list for the reordered graph.
    """
    graph = model.subgraphs[0]
    operators, codes, tensors = list(graph.operators or []), model.operatorCodes or [], graph.tensors or []
    reading, outputs = readers(graph), graph_outputs(graph)
    moves = {}  # pad index -> LceQuantize index
    for index, op in enumerate(operators):
        if builtin(codes[op.opcodeIndex]) != schema.BuiltinOperator.MIRROR_PAD:
            continue
        if op.inputs is None or len(op.inputs) != 2 or op.outputs is None or len(op.outputs) != 1:
            continue
        padded = int(op.outputs[0])
        users = reading.get(padded, [])
        if len(users) != 1 or padded in outputs or not _last_axis_unpadded(model, op):
            continue
        quantize = operators[users[0]]
        if not is_custom(codes, quantize, "LceQuantize") or len(quantize.inputs) != 1:
            continue
        if quantize.outputs is None or len(quantize.outputs) != 1:
            continue
        if tensors[int(quantize.outputs[0])].type != schema.TensorType.INT32:
            continue
        moves[index] = users[0]
    if not moves:
        return origin
    dead = set()
    for pad_index, quantize_index in moves.items():
        pad, quantize = operators[pad_index], operators[quantize_index]
        x, bits = int(pad.inputs[0]), int(quantize.outputs[0])
        words = copy.deepcopy(tensors[bits])
        words.shape = np.array([*shape(tensors[x])[:-1], shape(tensors[bits])[-1]], np.int32)
        words.shapeSignature, words.buffer = None, 0  # computed at run time: the empty buffer
        words.name = (words.name.decode() if isinstance(words.name, bytes) else str(words.name)) + "/unpadded"
        tensors.append(words)
        dead.add(int(pad.outputs[0]))
        quantize.inputs = np.array([x], np.int32)
        quantize.outputs = np.array([len(tensors) - 1], np.int32)
        pad.inputs = np.array([len(tensors) - 1, int(pad.inputs[1])], np.int32)
        pad.outputs = np.array([bits], np.int32)
    graph.tensors = tensors
    # each LceQuantize runs just before its pad: its input was ready there, and the pad's readers follow
    order = []
    moved = set(moves.values())
    for index in range(len(operators)):
        if index in moved:
            continue
        if index in moves:
            order.append(moves[index])
        order.append(index)
    graph.operators = [operators[i] for i in order]
    drop_tensors(model, graph, dead)
    return [origin[i] for i in order]
