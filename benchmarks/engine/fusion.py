"""Flatbuffer rewrite that fuses ops for the engine before tflite-runtime loads the model.

One pattern: a float-output `LceBconv2d` whose output feeds only an `ADD` (either operand,
same shape as the other operand, no broadcasting, fused activation NONE/RELU/RELU_N1_TO_1/
RELU6) becomes one custom op `LabBnnBconv2dAdd`: the bconv's five inputs plus the residual,
the bconv's custom options plus `add_activation`, and the ADD's output tensor. A `PRELU`
that is the only reader of the ADD's output, with one constant slope per channel (LabBNN's
blocks), is absorbed: its slopes become the seventh input and its output the fused op's.
An `LceQuantize` reading that output is absorbed too: its output becomes the fused op's second
output, which the engine packs with LceQuantize's own kernel. The engine's
C side computes the bconv's float output exactly as before and then `act(y + residual)` in
float32, so the fused model's outputs equal the unfused model's bit for bit. The fused op
sits at the ADD's position (its residual is ready there); the dead intermediate tensor is
dropped and every other operator, tensor and buffer is kept.

A float32 `MAX_POOL_2D` becomes the custom op `LabBnnMaxPool2d` in place (same tensors, its
Pool2DOptions as FlexBuffers): tflite-runtime's XNNPACK max pooling is SSE-only, ours uses
the level's vector width, and a max is exact, so the outputs are the same bits. A
`MIRROR_PAD` with constant paddings becomes `LabBnnMirrorPad` in place: a copy of bytes,
one memcpy per run of unpadded trailing dimensions, where tflite-runtime's kernel computes
each element's index (BoolNet pads every binary conv's input this way). A `PACK` becomes
`LabBnnPack` in place (options: `axis` made non-negative, `values_count`): a copy of bytes as
well, where tflite-runtime's kernel makes one memcpy per element when the axis is the last
(BoolNet's channel shuffles, ~40 % of its time at one thread). A float32
`AVERAGE_POOL_2D` whose windows hold 2 to 9 pixels, never need padding and are not the whole
input (Bi-RealNet's and LabBNN's shortcuts) becomes `LabBnnAveragePool2d`, which adds in XNNPACK's order and
multiplies by its scale, so again the outputs are the same bits. LAB's DEPTHWISE_CONV_2D →
LceQuantize pairs become `LabBnnDepthwiseQuantize` (`depthwise_fusion`), BoolNet's TILE → ADD/SUB →
LceQuantize [→ LceDequantize] chains `LabBnnMultiSliceSign` (`sign_fusion`), a MIRROR_PAD
that only an LceQuantize reads pads the packed words instead (`quantize_before_pad`), and the
float ADD, MUL, RESHAPE and STRIDED_SLICE ops left become the engine's (`float_ops`).
"""

from typing import Dict, List, Optional, Tuple

import numpy as np
from flatbuffers import flexbuffers
from tensorflow.lite.python import schema_py_generated as schema

from benchmarks.engine import float_ops, pixel_chains
from benchmarks.engine.depthwise_fusion import DEPTHWISE_QUANTIZE, fuse_depthwise_quantize
from benchmarks.engine.graph_edit import ENGINE_ACTIVATIONS as _ENGINE_ACTIVATIONS
from benchmarks.engine.graph_edit import become_custom as _become_custom
from benchmarks.engine.graph_edit import builtin as _builtin
from benchmarks.engine.graph_edit import builtin_ops as _builtin_ops
from benchmarks.engine.graph_edit import constant_data as _constant_data
from benchmarks.engine.graph_edit import custom_options as _custom_options
from benchmarks.engine.graph_edit import drop_tensors as _drop_tensors
from benchmarks.engine.graph_edit import graph_outputs as _graph_outputs
from benchmarks.engine.graph_edit import is_custom as _is_custom
from benchmarks.engine.graph_edit import opcode_index as _opcode_index
from benchmarks.engine.graph_edit import quantized as _quantized
from benchmarks.engine.graph_edit import readers as _readers
from benchmarks.engine.graph_edit import shape as _shape
from benchmarks.engine.op_names import MAX_PACKED, MIRROR_PAD, PACK
from benchmarks.engine.quantize_before_pad import quantize_before_mirror_pad
from benchmarks.engine.sign_fusion import MULTI_SLICE_SIGN, fuse_multi_slice_sign
from benchmarks.flatbuffer_model import load_model, pack_model

FUSED_BCONV_ADD = "LabBnnBconv2dAdd"
FLOAT_MAX_POOL = "LabBnnMaxPool2d"
FLOAT_AVERAGE_POOL = "LabBnnAveragePool2d"
# tensor types whose elements are not fixed-size bytes: a PACK of them stays on TFLite's kernel
_NOT_FIXED_SIZE = {schema.TensorType.STRING, schema.TensorType.RESOURCE, schema.TensorType.VARIANT}
# The custom ops the engine runs (each has an engine timer), LCE's and ours.
ENGINE_OPS = ("LceQuantize", "LceDequantize", "LceBconv2d", "LceBMaxPool2d")
ENGINE_OPS += (FUSED_BCONV_ADD, FLOAT_MAX_POOL, MIRROR_PAD, FLOAT_AVERAGE_POOL, DEPTHWISE_QUANTIZE, PACK)
ENGINE_OPS += (MULTI_SLICE_SIGN, float_ops.BINARY, float_ops.RESHAPE, float_ops.STRIDED_SLICE)
ENGINE_OPS += (pixel_chains.PIXEL_CHAIN,)


def _add_activation(add: schema.OperatorT) -> Optional[int]:
    """The ADD's fused activation if the engine can apply it, else None."""
    options = add.builtinOptions
    if options is None:
        return schema.ActivationFunctionType.NONE
    if not isinstance(options, schema.AddOptionsT):
        return None
    return options.fusedActivationFunction if options.fusedActivationFunction in _ENGINE_ACTIVATIONS else None


def fuse_bconv_add(model: schema.ModelT, absorbed: Optional[Dict[int, int]] = None) -> List[int]:
    """Fuse every LceBconv2d → ADD pair in subgraph 0 of `model` in place.

    Returns, for each operator of the rewritten subgraph, the index of the operator it
    came from (a fused op: the LceBconv2d's index), so timers can name original indices;
    `absorbed`, when given, gets {ADD's index: its LceBconv2d's index} for every fused pair
    and {LceQuantize's index: that LceBconv2d's index} for every LceQuantize absorbed.
    """
    graph = model.subgraphs[0]
    operators = graph.operators or []
    tensors = graph.tensors or []
    codes = model.operatorCodes or []
    consumers = _readers(graph)
    outputs = _graph_outputs(graph)
    fused_at: Dict[int, Tuple[int, int, int]] = {}  # ADD index -> (bconv index, residual, activation)
    for index, op in enumerate(operators):
        if not _is_custom(codes, op, "LceBconv2d"):
            continue
        if op.inputs is None or len(op.inputs) != 5 or op.outputs is None or len(op.outputs) != 1:
            continue
        y = int(op.outputs[0])
        users = consumers.get(y, [])
        if y in outputs or len(users) != 1 or tensors[y].type != schema.TensorType.FLOAT32:
            continue
        add = operators[users[0]]
        if _builtin(codes[add.opcodeIndex]) != schema.BuiltinOperator.ADD:
            continue
        if add.inputs is None or len(add.inputs) != 2 or add.outputs is None or len(add.outputs) != 1:
            continue
        a, b = (int(t) for t in add.inputs)
        if a == b:
            continue
        residual = b if a == y else a
        out = int(add.outputs[0])
        activation = _add_activation(add)
        same = {_shape(tensors[t]) for t in (y, residual, out)}
        if activation is None or len(same) != 1 or len(next(iter(same))) != 4 or min(next(iter(same))) < 1:
            continue
        if residual < 0 or users[0] in fused_at:
            continue
        if any(
            tensors[t].type != schema.TensorType.FLOAT32 or _quantized(tensors[t]) for t in (y, residual, out)
        ):
            continue
        fused_at[users[0]] = (index, residual, int(activation))
    prelu_of: Dict[int, int] = {}  # fused ADD's index -> the PRELU absorbed after it
    for add in fused_at:
        prelu = _prelu_reading(model, operators, codes, tensors, consumers, int(operators[add].outputs[0]))
        if prelu is not None and int(operators[add].outputs[0]) not in outputs:
            prelu_of[add] = prelu
    quantize_of: Dict[int, int] = {}  # fused ADD's index -> the LceQuantize absorbed with it
    for add in fused_at:
        last = operators[prelu_of[add]] if add in prelu_of else operators[add]
        quantize = _quantize_reading(operators, codes, tensors, consumers.get(int(last.outputs[0]), []))
        if quantize is not None:
            quantize_of[add] = quantize
    if absorbed is not None:
        absorbed.update({add: bconv for add, (bconv, _, _) in fused_at.items()})
        absorbed.update({prelu_of[add]: fused_at[add][0] for add in prelu_of})
        absorbed.update({q: fused_at[add][0] for add, q in quantize_of.items()})
    if not fused_at:
        return list(range(len(operators)))

    fused_code = _opcode_index(model, FUSED_BCONV_ADD)
    dead_ops = (
        {bconv for bconv, _, _ in fused_at.values()} | set(quantize_of.values()) | set(prelu_of.values())
    )
    dead_tensors = set()
    new_ops, origin = [], []
    for index, op in enumerate(operators):
        if index in dead_ops:
            continue
        if index in fused_at:
            bconv_index, residual, activation = fused_at[index]
            bconv = operators[bconv_index]
            dead_tensors.add(int(bconv.outputs[0]))
            fused = schema.OperatorT()
            fused.opcodeIndex = fused_code
            slopes, out = [], int(op.outputs[0])
            if index in prelu_of:  # the PRELU's slopes come seventh and its output replaces the ADD's
                prelu = operators[prelu_of[index]]
                slopes, out = [int(prelu.inputs[1])], int(prelu.outputs[0])
                dead_tensors.add(int(op.outputs[0]))
            fused.inputs = np.array([*(int(t) for t in bconv.inputs), residual, *slopes], np.int32)
            quantized = [int(operators[quantize_of[index]].outputs[0])] if index in quantize_of else []
            fused.outputs = np.array([out, *quantized], np.int32)
            options = _custom_options(bconv)
            options["add_activation"] = activation
            fused.customOptions = list(flexbuffers.Dumps(options))
            fused.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS
            new_ops.append(fused)
            origin.append(bconv_index)
        else:
            new_ops.append(op)
            origin.append(index)
    graph.operators = new_ops
    _drop_tensors(model, graph, dead_tensors)
    return origin


def _padding_free(size: int, window: int, stride: int, padding: int) -> bool:
    """TFLite's SAME/VALID geometry along one axis adds no padding."""
    if padding == schema.Padding.VALID:
        return True
    out = -(-size // stride)
    return (out - 1) * stride + window - size <= 0


def replace_pools(model: schema.ModelT) -> int:
    """Turn every float32 MAX_POOL_2D (fused activation the engine applies) into LabBnnMaxPool2d
    and every such AVERAGE_POOL_2D of at most 9 pixels a window without padding into
    LabBnnAveragePool2d, in place in subgraph 0; returns how many."""
    graph = model.subgraphs[0]
    tensors, codes = graph.tensors or [], model.operatorCodes or []
    replaced = 0
    targets = {
        schema.BuiltinOperator.MAX_POOL_2D: FLOAT_MAX_POOL,
        schema.BuiltinOperator.AVERAGE_POOL_2D: FLOAT_AVERAGE_POOL,
    }
    for op in graph.operators or []:
        target = targets.get(_builtin(codes[op.opcodeIndex]))
        if target is None:
            continue
        options = op.builtinOptions
        if (
            not isinstance(options, schema.Pool2DOptionsT)
            or options.fusedActivationFunction not in _ENGINE_ACTIVATIONS
        ):
            continue
        if op.inputs is None or len(op.inputs) != 1 or op.outputs is None or len(op.outputs) != 1:
            continue
        ends = [tensors[int(t)] for t in (op.inputs[0], op.outputs[0])]
        if any(t.type != schema.TensorType.FLOAT32 or _quantized(t) or len(_shape(t)) != 4 for t in ends):
            continue
        if target == FLOAT_AVERAGE_POOL:
            _, h, w, _ = _shape(ends[0])
            window = (options.filterHeight, options.filterWidth)
            # XNNPACK pools a window that is the whole input as a global average (rows first) and
            # copies 1x1 windows: those keep its own kernel
            if (
                window == (h, w)
                or window == (1, 1)
                or window[0] * window[1] > 9
                or not (
                    _padding_free(h, window[0], options.strideH, options.padding)
                    and _padding_free(w, window[1], options.strideW, options.padding)
                )
            ):
                continue
        _become_custom(
            model,
            op,
            target,
            {
                "filter_height": int(options.filterHeight),
                "filter_width": int(options.filterWidth),
                "stride_height": int(options.strideH),
                "stride_width": int(options.strideW),
                "padding": int(options.padding),
                "fused_activation_function": int(options.fusedActivationFunction),
            },
        )
        replaced += 1
    return replaced


def replace_mirror_pads(model: schema.ModelT) -> int:
    """Turn every MIRROR_PAD of subgraph 0 whose paddings are a constant buffer into
    LabBnnMirrorPad in place; returns how many."""
    tensors = model.subgraphs[0].tensors or []
    replaced = 0
    for op in _builtin_ops(model, schema.BuiltinOperator.MIRROR_PAD):
        if op.inputs is None or len(op.inputs) != 2 or op.outputs is None or len(op.outputs) != 1:
            continue
        paddings = tensors[int(op.inputs[1])]
        data = _constant_data(model, paddings)
        if data is None or len(data) == 0 or not 1 <= len(_shape(tensors[int(op.inputs[0])])) <= 8:
            continue
        options = op.builtinOptions
        mode = options.mode if isinstance(options, schema.MirrorPadOptionsT) else schema.MirrorPadMode.REFLECT
        _become_custom(model, op, MIRROR_PAD, {"mode": int(mode)})
        replaced += 1
    return replaced


def replace_packs(model: schema.ModelT) -> int:
    """Turn every PACK of subgraph 0 (1 to MAX_PACKED unquantized inputs of rank 1 to 7) into
    LabBnnPack in place; returns how many."""
    tensors = model.subgraphs[0].tensors or []
    replaced = 0
    for op in _builtin_ops(model, schema.BuiltinOperator.PACK):
        if (
            op.inputs is None
            or not 1 <= len(op.inputs) <= MAX_PACKED
            or op.outputs is None
            or len(op.outputs) != 1
        ):
            continue
        rank = len(_shape(tensors[int(op.inputs[0])]))
        options = op.builtinOptions
        axis = options.axis if isinstance(options, schema.PackOptionsT) else 0
        axis = axis + rank + 1 if axis < 0 else axis
        ends = [tensors[int(t)] for t in (*op.inputs, *op.outputs) if int(t) >= 0]
        # quantized PACKs stay on TFLite's kernel, which checks their scales and zero points agree
        if not 1 <= rank <= 7 or not 0 <= axis <= rank or len(ends) != len(op.inputs) + 1:
            continue
        if any(_quantized(t) or t.type in _NOT_FIXED_SIZE for t in ends):
            continue
        _become_custom(model, op, PACK, {"axis": int(axis), "values_count": len(op.inputs)})
        replaced += 1
    return replaced


def _prelu_reading(model, operators, codes, tensors, consumers, y: int) -> Optional[int]:
    """The index of a PRELU that is the only reader of tensor `y` (float32), with one constant slope per
    channel (the engine applies TFLite's y >= 0 ? y : y * slope after the ADD), if any."""
    readers = consumers.get(y, [])
    if len(readers) != 1:
        return None
    op = operators[readers[0]]
    if _builtin(codes[op.opcodeIndex]) != schema.BuiltinOperator.PRELU:
        return None
    if op.inputs is None or len(op.inputs) != 2 or int(op.inputs[0]) != y or op.outputs is None:
        return None
    slopes, out = tensors[int(op.inputs[1])], tensors[int(op.outputs[0])]
    data = _constant_data(model, slopes)
    channels = _shape(tensors[y])[-1]
    if data is None or len(data) != 4 * channels or slopes.type != schema.TensorType.FLOAT32:
        return None
    if _shape(out) != _shape(tensors[y]) or out.type != schema.TensorType.FLOAT32 or _quantized(out):
        return None
    if any(d != 1 for d in _shape(slopes)[:-1]) or int(np.prod(_shape(slopes))) != channels:
        return None
    return readers[0]


def _quantize_reading(operators, codes, tensors, readers: List[int]) -> Optional[int]:
    """The index of an LceQuantize (float32 in, int32 out) among `readers` of an ADD's output, if any:
    the fused op then writes its bits too, each thread its own pixels while they are in its cache."""
    for index in readers:
        op = operators[index]
        if not _is_custom(codes, op, "LceQuantize"):
            continue
        if op.inputs is None or len(op.inputs) != 1 or op.outputs is None or len(op.outputs) != 1:
            continue
        if tensors[int(op.outputs[0])].type == schema.TensorType.INT32:
            return index
    return None


def fuse(
    flatbuffer: bytes, absorbed: Optional[Dict[int, int]] = None, *, chains: bool = True
) -> Tuple[bytes, List[int]]:
    """`flatbuffer` with every LceBconv2d → ADD pair, every DEPTHWISE_CONV_2D → LceQuantize pair
    (`depthwise_fusion`) and every multi-slice sign chain (`sign_fusion`) fused and float pools,
    constant-padded MIRROR_PADs and PACKs on the engine, a MIRROR_PAD read only by an LceQuantize
    moved after it (`quantize_before_pad`), small float ops on the engine (`float_ops`), and,
    unless `chains` is False, runs of pixel-wise ops fused (`pixel_chains`; unchanged bytes if
    none of these occurs), and for
    each operator of the result the index of the operator of `flatbuffer` it came from
    (`absorbed` as in `fuse_bconv_add`, plus each op fused into a depthwise conv, a sign or a
    chain)."""
    model = load_model(flatbuffer)
    count = len(model.subgraphs[0].operators or [])
    origin = fuse_depthwise_quantize(model, fuse_bconv_add(model, absorbed), absorbed)
    origin = fuse_multi_slice_sign(model, origin, absorbed)
    fused = origin
    origin = quantize_before_mirror_pad(model, origin)
    replaced = replace_pools(model) + replace_mirror_pads(model) + replace_packs(model)
    replaced += float_ops.replace_float_ops(model)
    if chains:
        origin = pixel_chains.build_chains(model, origin, absorbed)
    if len(origin) == count and origin is fused and not replaced:
        return flatbuffer, origin
    return pack_model(model), origin
