"""Zero-padded binary convs that LCE 0.16's optimized kernels compute wrongly.

Measured (`python -m benchmarks.zero_padding`, LCE 0.16 on x86-64): an LceBconv2d with
SAME padding and pad value 0 is exact on every kernel path while each spatial side of
its input map is at least the kernel's dilated extent (k - 1) * d + 1. When a side is
shorter, so that no window fits inside the map, the `default` and `indirect_bgemm`
paths (with or without XNNPACK) are wrong (max |Δ| 32 to 218 with 64 input channels;
the outputs are sums of ±1), and `reference_bconv` stays exact. Checked for k = 2, 3,
4, 5, 7, d = 1, 2, 3, strides 1 and 2, maps 1x1 to 9x9, square and not. It is not
"a window padded on both sides": 3x3 on 2x2 and 5x5 on 4x4 have none and are wrong.
Pad value 1 (LCE's native one) and VALID padding are exact everywhere.
"""

from dataclasses import dataclass
from typing import Iterable, List, Optional, Tuple

import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema

from converter.tflite_ops import TfliteOperator, read_operators

# The binary-conv kernels that get such convs wrong (benchmarks.kernel_paths names them;
# XNNPACK does not run binary convs, so "+xnnpack" changes nothing).
AFFECTED_KERNELS = ("default", "indirect_bgemm")
EXACT_KERNEL = "reference_bconv"


@dataclass(frozen=True)
class ZeroPaddingWarning:
    """One zero-padded LceBconv2d whose input map is smaller than its window."""

    operator: int
    layer: str
    input_map: Tuple[int, int]
    window: Tuple[int, int]  # the dilated kernel extent, (k - 1) * d + 1 per side

    @property
    def fix(self) -> str:
        return (
            f"retrain with pad_values=1.0 on {self.layer} (LCE's native pad value), or "
            f"use an input large enough that this map is at least "
            f"{self.window[0]}×{self.window[1]}"
        )

    @property
    def message(self) -> str:
        (h, w), (kh, kw) = self.input_map, self.window
        return (
            f"{self.layer}: a zero-padded binary conv with a {kh}×{kw} window on a {h}×{w} "
            f"map; LCE 0.16's {' and '.join(AFFECTED_KERNELS)} kernel paths (with or "
            f"without XNNPACK) compute it wrongly, {EXACT_KERNEL} exactly. Fix: {self.fix}"
        )


def window_exceeds_map(op: TfliteOperator) -> Optional[Tuple[Tuple[int, int], Tuple[int, int]]]:
    """(input map, window) of a zero-padded SAME LceBconv2d whose map is shorter than
    its window on some side, else None."""
    if (
        op.op_type != "LceBconv2d"
        or op.options.get("padding") != schema.Padding.SAME
        or op.options.get("pad_values") != 0
    ):
        return None
    (_, h, w, _), (_, kh, kw, _) = op.input_shapes[0], op.input_shapes[1]
    window = (
        (kh - 1) * int(op.options.get("dilation_height_factor", 1)) + 1,
        (kw - 1) * int(op.options.get("dilation_width_factor", 1)) + 1,
    )
    return ((h, w), window) if h < window[0] or w < window[1] else None


def zero_padding_warnings(
    flatbuffer: bytes, model: Optional[tf.keras.Model] = None
) -> List[ZeroPaddingWarning]:
    """Every binary conv of `flatbuffer` that LCE's optimized kernels compute wrongly,
    named after its Keras layer (found in `model` when given, else in the tensor names).

    Raises:
        UserError: if `flatbuffer` is not a TFLite model.
    """
    operators = read_operators(flatbuffer)
    graph = schema.Model.GetRootAsModel(flatbuffer, 0).Subgraphs(0)
    layer_names = sorted(_layer_paths(model), key=len, reverse=True) if model else []
    warnings = []
    for op in operators:
        found = window_exceeds_map(op)
        if found:
            tensor = graph.Tensors(op.inputs[0]).Name().decode()
            warnings.append(ZeroPaddingWarning(op.index, _layer_name(tensor, layer_names, op), *found))
    return warnings


def _layer_paths(model: tf.keras.Model, prefix: str = "") -> Iterable[str]:
    for layer in model.layers:
        yield prefix + layer.name
        if isinstance(layer, tf.keras.Model):
            yield from _layer_paths(layer, f"{prefix}{layer.name}/")


def _layer_name(tensor: str, layer_names: List[str], op: TfliteOperator) -> str:
    """The converter names a bconv's bitpacked input `<model>/<layer path>/<quantizer>/…`
    after the layer whose quantizer made it (names are cut at 50 characters)."""
    first = tensor.split(";")[0]
    for name in layer_names:  # longest first: `block/conv` before `conv`
        if f"/{name}/" in f"{first}/":
            return name
    parts = first.split("/")
    return "/".join(parts[1:-2]) if len(parts) > 3 else f"operator {op.index} ({first})"
