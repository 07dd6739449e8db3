"""A `.tflite` flatbuffer as TensorFlow's schema objects: checked on the way in, packed
on the way out.

LCE's interpreter does not verify what it loads (a truncated flatbuffer crashes the
process), so everything the benchmarks hand to it passes `load_model` first.
"""

import lab_bnn  # noqa: F401  (legacy Keras before TensorFlow)
from lab_bnn.errors import UserError

import flatbuffers
import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

from converter import read_operators

FILE_IDENTIFIER = b"TFL3"

# Bytes per element of the tensor types a constant buffer is checked against.
_ELEMENT_BYTES = {
    schema.TensorType.FLOAT32: 4,
    schema.TensorType.FLOAT16: 2,
    schema.TensorType.INT32: 4,
    schema.TensorType.UINT8: 1,
    schema.TensorType.INT64: 8,
    schema.TensorType.BOOL: 1,
    schema.TensorType.INT16: 2,
    schema.TensorType.INT8: 1,
    schema.TensorType.FLOAT64: 8,
}


def load_model(flatbuffer: bytes) -> schema.ModelT:
    """Unpack `flatbuffer` into a `schema.ModelT`, checking that it holds together.

    Every table and vector is read (a truncated or overwritten flatbuffer fails here,
    not in the interpreter), and every index is checked: operator codes, tensors,
    buffers, and constant buffers' sizes against their tensors' shapes.

    Raises:
        UserError: if `flatbuffer` is not a readable TFLite model with one or more
            subgraphs.

    Example:
        >>> model = load_model(open("model.tflite", "rb").read())
        >>> len(model.subgraphs[0].operators)
    """
    try:
        read_operators(flatbuffer)  # checks the file identifier first
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytes(flatbuffer), 0))
    except Exception as error:  # flatbuffers raises struct.error, IndexError, ...
        if isinstance(error, ValueError) and str(error).startswith("expected TFLite"):
            raise
        kind = (
            type(error).__name__
            if type(error).__module__ == "builtins"
            else f"{type(error).__module__}.{type(error).__name__}"
        )
        raise UserError(
            f"corrupt TFLite flatbuffer ({len(flatbuffer)} bytes): reading it failed with {kind}: {error}"
        ) from None
    problem = _first_inconsistency(model)
    if problem:
        raise UserError(f"corrupt TFLite flatbuffer ({len(flatbuffer)} bytes): {problem}")
    return model


def pack_model(model: schema.ModelT) -> bytes:
    """The flatbuffer bytes of `model`, with TFLite's file identifier."""
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def _first_inconsistency(model: schema.ModelT) -> str:
    """A description of the first broken reference in `model`, or ''."""
    if not model.subgraphs or model.subgraphs[0] is None:
        return "no subgraphs"
    codes = model.operatorCodes or []
    buffers = model.buffers or []
    for s, graph in enumerate(model.subgraphs):
        if graph is None:
            return f"subgraph {s} is missing"
        tensors = graph.tensors or []
        for t, tensor in enumerate(tensors):
            if tensor is None:
                return f"subgraph {s} tensor {t} is missing"
            shape = [] if tensor.shape is None else [int(d) for d in tensor.shape]
            if any(d < 0 for d in shape):
                return f"tensor {t} has shape {shape}"
            if not 0 <= tensor.buffer < max(1, len(buffers)):
                return f"tensor {t} refers to buffer {tensor.buffer} of {len(buffers)}"
            data = buffers[tensor.buffer].data if buffers and buffers[tensor.buffer] else None
            width = _ELEMENT_BYTES.get(tensor.type)
            if (
                data is not None
                and len(data)
                and width
                and len(data) != width * int(np.prod(shape, dtype=np.int64))
            ):
                return f"tensor {t} of shape {shape} has a constant buffer of {len(data)} bytes"
        for name, indices in (("inputs", graph.inputs), ("outputs", graph.outputs)):
            bad = [int(i) for i in (indices if indices is not None else []) if not 0 <= i < len(tensors)]
            if bad:
                return f"subgraph {s} {name} refer to tensors {bad} of {len(tensors)}"
        for o, op in enumerate(graph.operators or []):
            if op is None:
                return f"subgraph {s} operator {o} is missing"
            if not 0 <= op.opcodeIndex < len(codes) or codes[op.opcodeIndex] is None:
                return f"operator {o} refers to operator code {op.opcodeIndex} of {len(codes)}"
            for name, indices in (("inputs", op.inputs), ("outputs", op.outputs)):
                bad = [int(i) for i in (indices if indices is not None else []) if not -1 <= i < len(tensors)]
                if bad:
                    return f"operator {o} {name} refer to tensors {bad} of {len(tensors)}"
    return ""
