"""Small in-place edits of a TFLite flatbuffer's object API (`schema_py_generated` ModelT) that the
engine's rewrites share: finding or adding a custom operator code, turning a builtin into a custom
op, and dropping tensors no operator reads any more."""

from typing import Dict, Iterator, List, Optional, Set, Tuple

import numpy as np
from flatbuffers import flexbuffers
from tensorflow.lite.python import schema_py_generated as schema

# TFLite ActivationFunctionType values the engine's kernels apply (lbe_activation_bounds: same codes).
ENGINE_ACTIVATIONS = {
    schema.ActivationFunctionType.NONE,
    schema.ActivationFunctionType.RELU,
    schema.ActivationFunctionType.RELU_N1_TO_1,
    schema.ActivationFunctionType.RELU6,
}


# Bytes a value of the element types whose values all have one size (the engine's copies work in
# bytes a value: no strings, resources or variants).
ITEM_BYTES = {
    schema.TensorType.FLOAT32: 4,
    schema.TensorType.INT32: 4,
    schema.TensorType.INT8: 1,
    schema.TensorType.UINT8: 1,
    schema.TensorType.BOOL: 1,
    schema.TensorType.INT16: 2,
    schema.TensorType.FLOAT16: 2,
    schema.TensorType.INT64: 8,
}


def custom_name(code: schema.OperatorCodeT) -> str:
    name = code.customCode or b""
    return name.decode() if isinstance(name, bytes) else str(name)


def builtin(code: schema.OperatorCodeT) -> int:
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def opcode_index(model: schema.ModelT, name: str) -> int:
    for index, code in enumerate(model.operatorCodes):
        if builtin(code) == schema.BuiltinOperator.CUSTOM and custom_name(code) == name:
            return index
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    code.customCode = name
    code.version = 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def shape(tensor: schema.TensorT) -> Tuple[int, ...]:
    return tuple(int(d) for d in (tensor.shape if tensor.shape is not None else ()))


def become_custom(model: schema.ModelT, op: schema.OperatorT, name: str, options: dict) -> None:
    """Make builtin `op` the custom op `name` in place (same tensors), its options as FlexBuffers."""
    op.opcodeIndex = opcode_index(model, name)
    op.customOptions = list(flexbuffers.Dumps(options))
    op.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS
    op.builtinOptionsType, op.builtinOptions = schema.BuiltinOptions.NONE, None


def builtin_ops(model: schema.ModelT, code: int) -> Iterator[schema.OperatorT]:
    """The operators of subgraph 0 that are builtin `code`, in operator order."""
    codes = model.operatorCodes or []
    return (op for op in model.subgraphs[0].operators or [] if builtin(codes[op.opcodeIndex]) == code)


def custom_options(op: schema.OperatorT) -> dict:
    """A custom op's FlexBuffers options as a dict ({} when it has none)."""
    data = op.customOptions
    return dict(flexbuffers.Loads(bytes(bytearray(data)))) if data is not None and len(data) else {}


def is_custom(codes, op: schema.OperatorT, name: str) -> bool:
    code = codes[op.opcodeIndex]
    return builtin(code) == schema.BuiltinOperator.CUSTOM and custom_name(code) == name


def quantized(tensor: schema.TensorT) -> bool:
    q = tensor.quantization
    return q is not None and (q.scale is not None and len(q.scale) > 0)


def drop_tensors(model: schema.ModelT, graph: schema.SubGraphT, dead: set) -> None:
    """Remove tensors `dead` (referenced by no operator any more) and renumber the rest."""
    remap = np.full(len(graph.tensors), -1, np.int64)
    kept = [i for i in range(len(graph.tensors)) if i not in dead]
    remap[kept] = np.arange(len(kept))

    def renumber(indices):
        if indices is None:
            return None
        return np.array([int(remap[int(t)]) if int(t) >= 0 else int(t) for t in indices], np.int32)

    for op in graph.operators:
        op.inputs, op.outputs = renumber(op.inputs), renumber(op.outputs)
        if op.intermediates is not None and len(op.intermediates):
            op.intermediates = renumber(op.intermediates)
    graph.inputs, graph.outputs = renumber(graph.inputs), renumber(graph.outputs)
    graph.tensors = [graph.tensors[i] for i in kept]
    for signature in model.signatureDefs or []:
        if signature.subgraphIndex not in (0, None):
            continue
        for item in [*(signature.inputs or []), *(signature.outputs or [])]:
            item.tensorIndex = int(remap[item.tensorIndex])


def readers(graph: schema.SubGraphT) -> Dict[int, List[int]]:
    """{tensor index: indices of the operators that read it}, in operator order."""
    found: Dict[int, List[int]] = {}
    for index, op in enumerate(graph.operators or []):
        for t in op.inputs if op.inputs is not None else ():
            if t >= 0:
                found.setdefault(int(t), []).append(index)
    return found


def graph_outputs(graph: schema.SubGraphT) -> Set[int]:
    return {int(t) for t in (graph.outputs if graph.outputs is not None else ())}


def constant_data(model: schema.ModelT, tensor: schema.TensorT) -> Optional[bytes]:
    """The bytes of `tensor`'s buffer, or None when it has none (a tensor computed at run time)."""
    buffers = model.buffers or []
    return buffers[tensor.buffer].data if 0 < tensor.buffer < len(buffers) else None


_INTEGER_TYPES = {schema.TensorType.INT32: np.int32, schema.TensorType.INT64: np.int64}


def constant_ints(model: schema.ModelT, tensor: schema.TensorT) -> Optional[np.ndarray]:
    """The values of a constant int32/int64 tensor (flat), or None for any other tensor."""
    data, width = constant_data(model, tensor), _INTEGER_TYPES.get(tensor.type)
    if data is None or width is None or len(data) % np.dtype(width).itemsize:
        return None
    return np.frombuffer(bytes(bytearray(data)), width)
