"""The engine's last rewrite: runs of ops that each work pixel by pixel become one
custom op, `LabBnnPixelChain`, that runs the whole run over a few pixels at a time.

A pixel is a position in the first three dimensions (N, H, W) that every tensor of the run
shares; an op qualifies when its output at a pixel depends only on its inputs at that pixel:
`LabBnnMultiSliceSign`, `LceQuantize` of floats, `LabBnnBinary` (the broadcast operand inside
a pixel), `LabBnnReshape`, `LabBnnStridedSlice` and `LabBnnPack` that keep the pixel dimensions
whole; and `LabBnnMirrorPad` of H and W, whose output is on a larger grid but each padded
position copies exactly one input pixel, so each pixel is written to all of its positions.
BoolNet runs 5-10 of them between each pair of binary convs. One at a time, each op is a
pass over the whole map on the calling thread (too small to split, and a split of each would
cost a hand-over between threads per op); as a chain, each thread takes its own rows of pixels
(the rows the binary conv before it wrote) through every op of the run, and tensors that only
the run reads live in a small per-thread scratch.

The op sits at the run's first op. Inputs: the program (a constant int32 tensor, encoded here
and checked in `csrc/tflite_pixel_chain.c`), then every tensor the run reads from outside;
outputs: every tensor of the run that is read outside it or is a model output. A reshape whose
output only the run reads aliases its input. Each step calls the kernel its op runs alone, on
fewer pixels, so the outputs are the same bits.
"""

from typing import Dict, List, Optional, Tuple

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

from benchmarks.engine import float_ops
from benchmarks.engine.graph_edit import (
    ITEM_BYTES,
    become_custom,
    constant_data,
    constant_ints,
    custom_name,
    custom_options,
    drop_tensors,
    graph_outputs,
    readers,
    shape,
)
from benchmarks.engine.op_names import MAX_PACKED, MIRROR_PAD, PACK

PIXEL_CHAIN = "LabBnnPixelChain"
MAGIC = 0x4C504331  # "LPC1": the program's first word
# a slot's storage: rows a pixel in a node input or output or in scratch; a whole input or output
WHERE = {"input": 0, "output": 1, "scratch": 2, "whole": 3, "whole output": 4}
STEP = {"sign": 0, "quantize": 1, "binary": 2, "copy": 3, "strided": 4, "pack": 5, "mirror pad": 6, "conv": 7}
_FLOAT, _INT32 = schema.TensorType.FLOAT32, schema.TensorType.INT32


class _Chain:
    """One run being built: its pixel dimensions, ops, steps and the tensors they touch."""

    def __init__(self, pixel_dims: Tuple[int, ...]):
        self.pixel_dims = pixel_dims
        self.ops: List[int] = []
        self.steps: List[Tuple[str, list]] = []  # (kind, [tensor or int arguments]); tensors as ("t", index)
        self.produced: List[int] = []
        self.aliases: Dict[int, int] = {}  # a reshape's output -> its input, when only the run reads it
        self.options: dict = {}  # a conv head's LceBconv2d options, which the chain op carries


def _pixel_row(tensors, index: int, pixel_dims) -> Optional[Tuple[Tuple[int, ...], int]]:
    """(dimensions after the pixel ones, bytes a pixel) when tensor `index` starts with `pixel_dims`."""
    t = tensors[index]
    dims, item = shape(t), ITEM_BYTES.get(t.type)
    if item is None or len(dims) < 4 or dims[:3] != pixel_dims or any(d < 1 for d in dims):
        return None
    return dims[3:], int(np.prod(dims[3:])) * item


def _resolve_slice(dims, begin, end, strides, begin_mask, end_mask) -> Tuple[list, list]:
    """TFLite's start and size per dimension for positive strides (as csrc/tflite_float_ops.c)."""
    starts, sizes = [], []
    for d, size in enumerate(dims):
        start = 0 if (begin_mask >> d) & 1 else int(begin[d])
        stop = size if (end_mask >> d) & 1 else int(end[d])
        start, stop = (min(max(v + size if v < 0 else v, 0), size) for v in (start, stop))
        starts.append(start)
        sizes.append(-(-(stop - start) // int(strides[d])) if stop > start else 0)
    return starts, sizes


def _step(model, op, pixel_dims) -> Optional[Tuple[str, list, List[int], List[int]]]:
    """(kind, arguments, tensors read, tensors written) of `op` as a chain step, or None."""
    tensors, name = model.subgraphs[0].tensors, custom_name(model.operatorCodes[op.opcodeIndex])
    ins, outs = [int(t) for t in op.inputs], [int(t) for t in op.outputs]
    if any(t < 0 for t in ins + outs) or not outs:
        return None
    rows = {t: _pixel_row(tensors, t, pixel_dims) for t in ins + outs}
    if name == "LceQuantize" and len(ins) == 1 and len(outs) == 1 and rows[ins[0]] and rows[outs[0]]:
        dims = rows[ins[0]][0]
        if tensors[ins[0]].type == _FLOAT and tensors[outs[0]].type == _INT32:
            return "quantize", [("t", ins[0]), ("t", outs[0]), dims[-1] if dims else 1], ins, outs
    if name == "LabBnnMultiSliceSign" and len(ins) == 2 and rows[ins[0]] and all(rows[t] for t in outs):
        options = custom_options(op)
        signs = [t for t in outs if tensors[t].type == _FLOAT]
        bits = [t for t in outs if tensors[t].type == _INT32]
        if tensors[ins[0]].type != _FLOAT or constant_data(model, tensors[ins[1]]) is None:
            return None
        channels = rows[ins[0]][0][-1] if rows[ins[0]][0] else 1
        args = [("t", ins[0]), ("w", ins[1]), channels, int(options.get("slices", 1))]
        args += [
            int(options.get("subtract", 0)),
            ("t", signs[0]) if signs else -1,
            ("t", bits[0]) if bits else -1,
        ]
        return "sign", args, ins, outs
    if name == float_ops.BINARY and len(ins) == 2 and len(outs) == 1 and rows[ins[0]] and rows[outs[0]]:
        options, (dims, _) = custom_options(op), rows[ins[0]]
        row = int(np.prod(dims))
        if rows[ins[1]] and rows[ins[1]][0] == dims:
            b = ("t", ins[1])  # one row a pixel, as a
        else:
            b_dims = float_ops.trailing_dims(shape(tensors[ins[1]]))
            if len(b_dims) > len(dims) or tuple(dims[len(dims) - len(b_dims) :]) != b_dims:
                return None  # broadcast across pixels
            b = ("w", ins[1])
        period = row if b[0] == "t" else int(np.prod(shape(tensors[ins[1]])))
        args = [("t", ins[0]), b, ("t", outs[0]), row, period, int(options.get("operation", 0))]
        return "binary", args + [int(options.get("fused_activation_function", 0))], ins, outs
    if name == float_ops.RESHAPE and len(outs) == 1 and rows[ins[0]] and rows[outs[0]]:
        if rows[ins[0]][1] == rows[outs[0]][1]:
            return "copy", [("t", ins[0]), ("t", outs[0])], ins[:1], outs
    if name == float_ops.STRIDED_SLICE and len(ins) == 4 and rows[ins[0]] and rows[outs[0]]:
        values = [constant_ints(model, tensors[t]) for t in ins[1:]]
        dims = shape(tensors[ins[0]])
        if any(v is None or len(v) != len(dims) for v in values):
            return None
        options = custom_options(op)
        starts, sizes = _resolve_slice(
            dims, *values, options.get("begin_mask", 0), options.get("end_mask", 0)
        )
        strides = [int(s) for s in values[2]]
        whole = all(starts[d] == 0 and strides[d] == 1 and sizes[d] == dims[d] for d in range(3))
        if not whole or tuple(sizes) != shape(tensors[outs[0]]) or min(strides) < 1:
            return None
        item = ITEM_BYTES[tensors[ins[0]].type]
        args = [
            ("t", ins[0]),
            ("t", outs[0]),
            len(dims) - 3,
            *dims[3:],
            *starts[3:],
            *strides[3:],
            *sizes[3:],
            item,
        ]
        return "strided", args, ins[:1], outs
    if name == PACK and 1 <= len(ins) <= MAX_PACKED and len(outs) == 1 and rows[outs[0]]:
        axis = int(custom_options(op).get("axis", 0))
        if axis < 3 or not all(rows[t] and shape(tensors[t]) == shape(tensors[ins[0]]) for t in ins):
            return None
        dims, item = shape(tensors[ins[0]]), ITEM_BYTES[tensors[ins[0]].type]
        outer, inner = int(np.prod(dims[3:axis])), int(np.prod(dims[axis:])) * item
        return "pack", [("t", outs[0]), len(ins), *[("t", t) for t in ins], outer, inner], ins, outs
    if name == MIRROR_PAD and len(ins) == 2 and len(outs) == 1 and rows[ins[0]]:
        pads = constant_ints(model, tensors[ins[1]])
        dims = shape(tensors[ins[0]])
        if pads is None or len(pads) != 2 * len(dims) or pads[:2].any() or pads[6:].any() or pads.min() < 0:
            return None  # it pads only H and W: each padded pixel copies one pixel of the input
        if not pads[2:6].any():
            # no padding: its output is on the run's grid, where later steps would read it by rows
            return None
        mode = int(custom_options(op).get("mode", 0))
        return (
            "mirror pad",
            [("t", ins[0]), ("o", outs[0]), *dims[1:3], *(int(p) for p in pads[2:6]), mode],
            ins,
            outs,
        )
    return None


def _pixel_dims(model, op) -> Optional[Tuple[int, ...]]:
    """The first three dimensions of `op`'s first output (a mirror pad's: input), when it has four or more."""
    ends = op.inputs if custom_name(model.operatorCodes[op.opcodeIndex]) == MIRROR_PAD else op.outputs
    dims = shape(model.subgraphs[0].tensors[int(ends[0])]) if ends is not None and len(ends) else ()
    return dims[:3] if len(dims) >= 4 else None


LOOK_AHEAD = 6  # ops past a run's last one searched for steps that can move up into it


def _conv_head(model, op, pixel_dims) -> Optional[Tuple[list, List[int], List[int]]]:
    """(arguments, tensors read, tensors written) of `op` as a run's first step, when it is a grouped
    LceBconv2d with float output on the run's pixels and constant filter, multiplier and bias. Only
    grouped convs: at AVX-512 an ungrouped one runs on a padded copy of its input (bconv2d_direct.c),
    which a unit of rows cannot share; a grouped one runs row piece by row piece either way."""
    tensors = model.subgraphs[0].tensors
    if custom_name(model.operatorCodes[op.opcodeIndex]) != "LceBconv2d" or op.outputs is None:
        return None
    ins, outs = [int(t) for t in op.inputs], [int(t) for t in op.outputs]
    if len(ins) < 4 or min(ins[:4]) < 0 or any(t >= 0 for t in ins[4:]) or len(outs) != 1:
        return None
    source, weights, multiplier, bias = ins[:4]
    if tensors[outs[0]].type != _FLOAT or not _pixel_row(tensors, outs[0], pixel_dims):
        return None
    if any(constant_data(model, tensors[t]) is None for t in (weights, multiplier, bias)):
        return None
    if shape(tensors[weights])[-1:] == shape(tensors[source])[-1:]:
        return None  # one group
    args = [("w", source), ("t", outs[0]), ("w", weights), ("w", multiplier), ("w", bias)]
    return args, [source, weights, multiplier, bias], outs


def _runs(model) -> List[_Chain]:
    """Runs of two or more chain steps over the same pixels: consecutive ones, plus later ones
    (up to LOOK_AHEAD ops past the run) whose inputs are ready at the run's first op, which move up
    into it (BoolNet packs a block's output for its shortcut conv after the next binary conv)."""
    operators = model.subgraphs[0].operators or []
    producer = {
        int(t): i for i, op in enumerate(operators) for t in (op.outputs if op.outputs is not None else ())
    }
    steps = []
    for op in operators:
        dims = _pixel_dims(model, op)
        steps.append((dims, _step(model, op, dims) if dims else None))
    runs, taken = [], set()
    for head, (dims, step) in enumerate(steps):
        if step is None or head in taken:
            continue
        chain, members = _Chain(dims), {head}
        last = head
        conv = _conv_head(model, operators[head - 1], dims) if head > 0 and head - 1 not in taken else None
        if conv and conv[2][0] in step[2]:  # the run's first op reads the conv: it starts the run
            chain.ops.append(head - 1)
            chain.steps.append(("conv", conv[0]))
            chain.produced.extend(conv[2])
            chain.options = custom_options(operators[head - 1])
            members.add(head - 1)
        for index in range(head, len(operators)):
            if index - last > LOOK_AHEAD:
                break
            other_dims, other = steps[index]
            if other is None or index in taken or other_dims != dims:
                continue
            ready = all(producer.get(t, -1) < head or producer[t] in members for t in other[2])
            # a broadcast operand or a sign's thresholds are read whole: never one the run writes
            whole = {a[1] for a in other[1] if isinstance(a, tuple) and a[0] == "w"}
            if (index != head and not ready) or whole & set(chain.produced):
                continue
            members.add(index)
            chain.ops.append(index)
            chain.steps.append((other[0], other[1]))
            chain.produced.extend(other[3])
            last = index
        if len(chain.ops) >= 2:
            runs.append(chain)
            taken.update(chain.ops)
    return runs


def _add_program(model, words: List[int]) -> int:
    """A new constant int32 tensor holding `words`; returns its index."""
    buffer = schema.BufferT()
    buffer.data = np.asarray(words, "<i4").tobytes()
    model.buffers.append(buffer)
    tensor = schema.TensorT()
    tensor.shape, tensor.type = np.array([len(words)], np.int32), _INT32
    tensor.buffer, tensor.name = len(model.buffers) - 1, "pixel_chain_program"
    model.subgraphs[0].tensors.append(tensor)
    return len(model.subgraphs[0].tensors) - 1


def _encode(model, chain: _Chain, outside: set) -> Tuple[List[int], List[int], List[int], set]:
    """(program, op inputs after the program, op outputs, tensors only the run used)."""
    tensors = model.subgraphs[0].tensors
    produced = set(chain.produced)
    for kind, args in chain.steps:  # a reshape only the run reads becomes an alias of its input
        if kind == "copy" and args[1][1] not in outside:
            chain.aliases[args[1][1]] = chain.aliases.get(args[0][1], args[0][1])
    slots: Dict[Tuple[int, bool], int] = {}
    table: List[int] = []
    inputs: List[int] = []
    outputs: List[int] = []
    scratch = 0

    def slot(argument) -> int:
        nonlocal scratch
        kind, index = argument
        index = chain.aliases.get(index, index)
        key = (index, kind == "w")  # a conv reads its input whole; another step may read it by rows
        if key not in slots:
            row = _pixel_row(tensors, index, chain.pixel_dims)
            if kind == "o":  # a whole output: a mirror pad's, on a larger grid
                t = tensors[index]
                size = int(np.prod(shape(t))) * ITEM_BYTES[t.type]
                where, position = WHERE["whole output"], len(outputs)
                outputs.append(index)
            elif kind == "w":
                t = tensors[index]
                where, position, size = (
                    WHERE["whole"],
                    1 + len(inputs),
                    int(np.prod(shape(t))) * ITEM_BYTES[t.type],
                )
                inputs.append(index)
            elif index not in produced:
                where, position, size = WHERE["input"], 1 + len(inputs), row[1]
                inputs.append(index)
            elif index in outside:
                where, position, size = WHERE["output"], len(outputs), row[1]
                outputs.append(index)
            else:
                where, position, size = WHERE["scratch"], scratch, row[1]
                scratch += 1
            slots[key] = len(table) // 3
            table.extend([where, position, size])
        return slots[key]

    body: List[int] = []
    steps = 0
    for kind, args in chain.steps:
        if kind == "copy" and args[1][1] in chain.aliases:
            continue
        words = [slot(a) if isinstance(a, tuple) else int(a) for a in args]
        body += [STEP[kind], len(words), *words]
        steps += 1
    program = [MAGIC, int(np.prod(chain.pixel_dims)), len(table) // 3, steps, *table, *body]
    used = produced | set(chain.aliases)
    return program, inputs, outputs, used - set(outputs)


def build_chains(
    model: schema.ModelT, origin: List[int], absorbed: Optional[Dict[int, int]] = None
) -> List[int]:
    """Replace every run (see the module text) in place; returns `origin` for the rewritten graph
    (as `sign_fusion.fuse_multi_slice_sign`), `absorbed` gets {original index: the run's first}."""
    runs = _runs(model)
    if not runs:
        return origin
    graph = model.subgraphs[0]
    operators, reading, model_outputs = graph.operators, readers(graph), graph_outputs(graph)
    dead_ops, dead_tensors = set(), set()
    for chain in runs:
        members = set(chain.ops)
        outside = {
            t
            for t in chain.produced
            if t in model_outputs or any(r not in members for r in reading.get(t, []))
        }
        program, inputs, outputs, internal = _encode(model, chain, outside)
        head = operators[chain.ops[0]]
        become_custom(model, head, PIXEL_CHAIN, {**chain.options, "steps": program[3]})
        head.inputs = np.array([_add_program(model, program), *inputs], np.int32)
        head.outputs = np.array(outputs, np.int32)
        dead_ops.update(chain.ops[1:])
        dead_tensors.update(internal)
        if absorbed is not None:
            first = origin[chain.ops[0]]
            members_origin = {origin[i] for i in chain.ops[1:]}
            for key, value in list(absorbed.items()):  # ops fused into a member now sit in the chain
                if value in members_origin:
                    absorbed[key] = first
            absorbed.update({origin[i]: first for i in chain.ops[1:]})
    graph.operators = [op for index, op in enumerate(operators) if index not in dead_ops]
    drop_tensors(model, graph, dead_tensors)
    return [source for index, source in enumerate(origin) if index not in dead_ops]
