"""Each operator of a `.tflite` graph cut out as a model of its own.

A one-op model keeps the operator, its options and its constant inputs (weights,
thresholds, shapes); the operator's other inputs become the model's inputs and its
outputs the model's outputs. Only the tensors and buffers the operator uses are kept,
so a one-op model of a large network stays small.
"""

import copy
from dataclasses import dataclass
from typing import Dict, List, Tuple

from tensorflow.lite.python import schema_py_generated as schema

from benchmarks.flatbuffer_model import load_model, pack_model
from converter import read_operators


@dataclass(frozen=True)
class SingleOpModel:
    """One operator of the main subgraph as a runnable flatbuffer.

    Attributes:
        index: the operator's position in the original graph's execution order.
        op_type: e.g. "CONV_2D", "LceBconv2d".
        flatbuffer: the one-op model.
        inputs: the original graph's tensor indices the model's inputs stand for,
            in the model's input order (constant inputs are inside the model).
        outputs: the original tensor indices of the model's outputs, in order.
    """

    index: int
    op_type: str
    flatbuffer: bytes
    inputs: Tuple[int, ...]
    outputs: Tuple[int, ...]


def single_op_models(flatbuffer: bytes) -> List[SingleOpModel]:
    """Every operator of `flatbuffer`'s main subgraph as its own model, in order.

    Raises:
        ValueError: if `flatbuffer` is not a readable TFLite model.

    Example:
        >>> for cut in single_op_models(convert(model)):
        ...     Interpreter(cut.flatbuffer).predict(...)
    """
    model = load_model(flatbuffer)
    op_types = [op.op_type for op in read_operators(flatbuffer)]
    return [_cut(model, index, op_type) for index, op_type in enumerate(op_types)]


def _is_constant(model: schema.ModelT, tensor: schema.TensorT) -> bool:
    buffer = model.buffers[tensor.buffer] if model.buffers else None
    return buffer is not None and buffer.data is not None and len(buffer.data) > 0


def _cut(model: schema.ModelT, index: int, op_type: str) -> SingleOpModel:
    graph = model.subgraphs[0]
    op = graph.operators[index]
    used = [
        int(t)
        for t in list(op.inputs if op.inputs is not None else [])
        + list(op.outputs if op.outputs is not None else [])
        + list(op.intermediates if op.intermediates is not None else [])
        if t >= 0
    ]
    renumber: Dict[int, int] = {}
    new_buffer: Dict[int, int] = {}
    tensors, buffers = [], [schema.BufferT()]  # buffer 0: TFLite's empty sentinel
    for old in used:
        if old in renumber:
            continue
        renumber[old] = len(tensors)
        tensor = copy.copy(graph.tensors[old])
        if _is_constant(model, tensor):
            if tensor.buffer not in new_buffer:
                new_buffer[tensor.buffer] = len(buffers)
                buffers.append(model.buffers[tensor.buffer])
            tensor.buffer = new_buffer[tensor.buffer]
        else:
            tensor.buffer = 0
        tensors.append(tensor)

    def new(indices):
        return [renumber[int(t)] if t >= 0 else -1 for t in (indices if indices is not None else [])]

    cut_op = copy.copy(op)
    cut_op.opcodeIndex = 0
    cut_op.inputs, cut_op.outputs = new(op.inputs), new(op.outputs)
    cut_op.intermediates = new(op.intermediates) if op.intermediates is not None else None

    inputs = []  # the non-constant inputs, each once, in the operator's order
    for old in op.inputs if op.inputs is not None else []:
        old = int(old)
        if (
            old >= 0
            and old not in inputs
            and not _is_constant(model, graph.tensors[old])
            and not graph.tensors[old].isVariable
        ):
            inputs.append(old)
    outputs = [int(t) for t in op.outputs]

    subgraph = schema.SubGraphT()
    subgraph.tensors = tensors
    subgraph.inputs = [renumber[t] for t in inputs]
    subgraph.outputs = [renumber[t] for t in outputs]
    subgraph.operators = [cut_op]
    subgraph.name = graph.name

    one = schema.ModelT()
    one.version = model.version
    one.description = model.description
    one.operatorCodes = [model.operatorCodes[op.opcodeIndex]]
    one.subgraphs = [subgraph]
    one.buffers = buffers
    return SingleOpModel(
        index=index, op_type=op_type, flatbuffer=pack_model(one), inputs=tuple(inputs), outputs=tuple(outputs)
    )
