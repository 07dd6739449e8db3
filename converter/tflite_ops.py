"""Read the operator list of a `.tflite` flatbuffer (builtin and LCE custom ops)."""

import struct
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from lab_bnn.errors import UserError

from flatbuffers import flexbuffers
from tensorflow.lite.python import schema_py_generated as schema

_BUILTIN_NAMES = {code: name for name, code in vars(schema.BuiltinOperator).items() if name.isupper()}


@dataclass(frozen=True)
class TfliteOperator:
    """One operator of the main subgraph, in execution order."""

    index: int
    op_type: str
    inputs: Tuple[int, ...]
    outputs: Tuple[int, ...]
    input_shapes: Tuple[Tuple[int, ...], ...] = ()
    output_shapes: Tuple[Tuple[int, ...], ...] = ()
    options: Dict[str, object] = field(default_factory=dict)  # an LCE op's custom options


def read_operators(flatbuffer: bytes) -> List[TfliteOperator]:
    """The main subgraph's operators with their input/output tensor indices.

    Raises:
        UserError: if `flatbuffer` is not a TFLite model.
    """
    if (
        not isinstance(flatbuffer, (bytes, bytearray))
        or len(flatbuffer) < 8
        or bytes(flatbuffer[4:8]) != b"TFL3"
    ):
        head = bytes(flatbuffer[:8]) if isinstance(flatbuffer, (bytes, bytearray)) else flatbuffer
        raise UserError(
            f"expected TFLite flatbuffer bytes (file identifier 'TFL3' at offset 4); "
            f"received {type(flatbuffer).__name__} starting {head!r}"
        )
    try:
        return _read_operators(bytes(flatbuffer))
    except (struct.error, IndexError, TypeError, UnicodeDecodeError) as error:
        raise UserError(
            f"corrupt TFLite flatbuffer ({len(flatbuffer)} bytes): the model tables cannot be read ({error})"
        ) from None


def _read_operators(flatbuffer: bytes) -> List[TfliteOperator]:
    model = schema.Model.GetRootAsModel(flatbuffer, 0)
    graph = model.Subgraphs(0)

    def shapes(indices):
        return tuple(
            tuple(int(d) for d in graph.Tensors(t).ShapeAsNumpy()) if t >= 0 else () for t in indices
        )

    operators = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        if code.CustomCode():
            op_type = code.CustomCode().decode()
        else:
            # Newer schemas keep small codes in the deprecated field as well.
            op_type = _BUILTIN_NAMES[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        inputs = tuple(int(t) for t in op.InputsAsNumpy()) if op.InputsLength() else ()
        outputs = tuple(int(t) for t in op.OutputsAsNumpy()) if op.OutputsLength() else ()
        options = (
            flexbuffers.Loads(op.CustomOptionsAsNumpy().tobytes())
            if code.CustomCode() and op.CustomOptionsLength()
            else {}
        )
        operators.append(
            TfliteOperator(
                index=i,
                op_type=op_type,
                inputs=inputs,
                outputs=outputs,
                input_shapes=shapes(inputs),
                output_shapes=shapes(outputs),
                options=options,
            )
        )
    return operators
