"""How much of a converted model is really binary, and why the rest is not."""

from dataclasses import dataclass, field
from typing import Dict, Optional

import larq as lq
import pandas as pd
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema

from converter.op_costs import is_binary, multiply_accumulates
from converter.tflite_ops import read_operators
from converter.zero_padding import AFFECTED_KERNELS, zero_padding_warnings

WARNING_COLUMNS = ["layer", "operator", "input_map", "window", "affected_kernels", "fix", "message"]


@dataclass
class AuditReport:
    """`operators`: one row per TFLite operator (index, op_type, kind, macs,
    parameter_bytes, warning). `stayed_float`: one row per Keras layer meant to be
    binary that did not become an LceBconv2d (layer, reason). `warnings`: one row per
    binary conv that some kernel paths compute wrongly (`WARNING_COLUMNS`; see
    `converter.zero_padding`). `summary`: binary-MAC fraction, operator and warning
    counts, flatbuffer size and the size larq's summary predicts."""

    operators: pd.DataFrame
    stayed_float: pd.DataFrame
    summary: Dict[str, float] = field(default_factory=dict)
    warnings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=WARNING_COLUMNS))


def parameter_bytes(flatbuffer: bytes) -> Dict[int, int]:
    """Operator index → bytes of its constant inputs (weights, biases, thresholds)."""
    model = schema.Model.GetRootAsModel(flatbuffer, 0)
    graph = model.Subgraphs(0)
    sizes = {}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        total = 0
        for t in op.InputsAsNumpy() if op.InputsLength() else []:
            if t < 0:
                continue
            buffer = model.Buffers(graph.Tensors(int(t)).Buffer())
            total += buffer.DataLength() or int(buffer.Size() if buffer.Offset() else 0)
        sizes[i] = total
    return sizes


def meant_binary(model: tf.keras.Model):
    """Conv layers whose input and kernel quantizers both binarize (precision 1)."""
    for layer in model.layers:
        if isinstance(layer, tf.keras.Model):
            yield from meant_binary(layer)
            continue
        quantizers = [getattr(layer, "input_quantizer", None), getattr(layer, "kernel_quantizer", None)]
        if isinstance(layer, lq.layers.QuantConv2D) and all(q is not None for q in quantizers):
            yield layer


def float_reason(layer: tf.keras.layers.Layer) -> str:
    """Why LCE cannot make `layer` one LceBconv2d."""
    for role in ("input_quantizer", "kernel_quantizer"):
        quantizer = getattr(layer, role)
        bits = getattr(quantizer, "precision", None)
        name = getattr(quantizer, "__name__", type(quantizer).__name__)
        if bits is not None and bits != 1:
            return f"{role} {name} has {bits} bits; LCE runs 1-bit convolutions only"
        if bits is None:
            return f"{role} {name} declares no precision; LCE only fuses sign-like binarizers"
    if layer.padding == "same" and getattr(layer, "pad_values", 0.0) not in (0.0, 1.0, -1.0):
        return f"pad_values={layer.pad_values}; LCE pads binary convs with 0 or ±1 only"
    if getattr(layer, "input_quantizer", None).__class__.__name__ == "XnorActivation":
        return "scaled input quantizer: sign(x)·mean|x| is not a pure sign"
    return "LCE did not match the binary-conv pattern (see the converter's log)"


def _bconv_tensor_names(flatbuffer: bytes) -> str:
    """The names of every LceBconv2d's tensors, joined: the converter names a bconv's
    bitpacked input after the layer whose quantizer made it (`model/layer/...`)."""
    graph = schema.Model.GetRootAsModel(flatbuffer, 0).Subgraphs(0)
    return " ".join(
        graph.Tensors(int(t)).Name().decode()
        for op in read_operators(flatbuffer)
        if op.op_type == "LceBconv2d"
        for t in op.inputs + op.outputs
        if t >= 0
    )


def _stayed_float(intended, flatbuffer: bytes, binary_convs: int):
    if binary_convs == len(intended):
        return []
    names = _bconv_tensor_names(flatbuffer)
    return [layer for layer in intended if f"/{layer.name}/" not in names]


def audit(flatbuffer: bytes, model: Optional[tf.keras.Model] = None) -> AuditReport:
    """Audit a converted model; with the Keras `model`, also name every layer that was
    meant to be binary but stayed float, with the reason, and compare sizes. Binary
    convs that LCE's optimized kernels compute wrongly are warned about, by layer.

    Raises:
        UserError: for bytes that are not a TFLite model.
    """
    ops = read_operators(flatbuffer)
    sizes = parameter_bytes(flatbuffer)
    operators = pd.DataFrame(
        [
            {
                "index": op.index,
                "op_type": op.op_type,
                "kind": "binary" if is_binary(op) else "float",
                "macs": multiply_accumulates(op),
                "parameter_bytes": sizes[op.index],
            }
            for op in ops
        ]
    )
    found = zero_padding_warnings(flatbuffer, model)
    warnings = pd.DataFrame(
        [
            {
                "layer": w.layer,
                "operator": w.operator,
                "input_map": "{}x{}".format(*w.input_map),
                "window": "{}x{}".format(*w.window),
                "affected_kernels": ", ".join(AFFECTED_KERNELS),
                "fix": w.fix,
                "message": w.message,
            }
            for w in found
        ],
        columns=WARNING_COLUMNS,
    )
    operators["warning"] = operators["index"].map({w.operator: w.message for w in found}).fillna("")
    binary_macs = operators.loc[operators.op_type == "LceBconv2d", "macs"].sum()
    total_macs = operators.macs.sum()
    summary = {
        "operators": len(operators),
        "binary_ops": int((operators.kind == "binary").sum()),
        "float_ops": int((operators.kind == "float").sum()),
        "binary_convs": int((operators.op_type == "LceBconv2d").sum()),
        "binary_mac_fraction": float(binary_macs / total_macs) if total_macs else 0.0,
        "size_bytes": len(flatbuffer),
        "warnings": len(warnings),
    }
    stayed = pd.DataFrame(columns=["layer", "reason"])
    if model is not None:
        intended = list(meant_binary(model))  # none in a float baseline: nothing stayed float
        rows = [
            {"layer": l.name, "reason": float_reason(l)}
            for l in _stayed_float(intended, flatbuffer, summary["binary_convs"])
        ]
        stayed = pd.DataFrame(rows, columns=["layer", "reason"])
        predicted = lq.models.ModelProfile(model).memory / 8
        summary.update(
            layers_meant_binary=len(intended),
            layers_stayed_float=len(stayed),
            predicted_size_bytes=float(predicted),
            size_vs_predicted=len(flatbuffer) / predicted if predicted else 0.0,
        )
    return AuditReport(operators, stayed, summary, warnings)
