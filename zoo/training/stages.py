"""Two-stage training (ReActNet's recipe, Liu et al. 2020, §4.1): stage 1 trains binary
activations with real-valued weights, stage 2 binarizes the weights too and starts from
stage 1's weights.

`float_weights(model)` makes the stage-1 model; `initialize_from(model, source)` copies a
finished stage-1 run's weights into the stage-2 model, matching layers by name.
"""

import copy
from typing import Dict, List, Tuple

import lab_bnn  # noqa: F401  (registers lab-bnn's layers and binarizers for from_config/load_model)
from lab_bnn.errors import UserError

import larq  # noqa: F401  (registers larq's layers and quantizers)
import tensorflow as tf

from zoo.training.model_file import load_model_file

# larq's weight quantizer arguments and the constraint that goes with each
# (QuantConv2D/QuantDense: kernel; QuantDepthwiseConv2D: depthwise; QuantSeparableConv2D: both).
WEIGHT_QUANTIZERS = {
    "kernel_quantizer": "kernel_constraint",
    "depthwise_quantizer": "depthwise_constraint",
    "pointwise_quantizer": "pointwise_constraint",
}


def float_weights(model: tf.keras.Model) -> tf.keras.Model:
    """The stage-1 copy of `model`: binary activations, real-valued weights.

    Every layer's weight quantizers and their constraints (`kernel_quantizer`,
    `kernel_constraint`, and the depthwise/pointwise pairs) become None; input quantizers
    stay. The copy is rebuilt from `model.get_config()` (the route `.h5` loading takes),
    so it keeps the layer names and has fresh weights.

    Args:
        model: a functional or Sequential Keras model.

    Returns:
        A new model of the same class, with the same layer names.

    Example:
        >>> stage_1 = float_weights(BiRealNet(input_shape=(32, 32, 3), num_classes=10))
    """
    config = copy.deepcopy(model.get_config())
    for layer in config["layers"]:
        layer_config = layer["config"]
        for quantizer, constraint in WEIGHT_QUANTIZERS.items():
            if quantizer in layer_config:
                layer_config[quantizer] = None
                if constraint in layer_config:
                    layer_config[constraint] = None
    return type(model).from_config(config)


def initialize_from(model: tf.keras.Model, source: str) -> None:
    """Copy the weights of a finished run (stage 1) into `model` (stage 2), in place.

    Layers are matched by name; inside a layer, weights are matched by their own name
    (the last part of the variable name, `kernel:0`, `moving_mean:0`) and, for a name that
    occurs more than once in the layer, by its position among those. Every weight of
    `model` must be found with the same shape, except the non-trainable state of a
    weight quantizer (ProgressiveSign's temperature) that a stage-1 model does not have:
    it keeps its initial value, and a line says so. Nothing is copied unless everything
    fits.

    Args:
        model: the model to initialize (built).
        source: a finished run folder (its model.h5) or an .h5 file.

    Raises:
        UserError: if the source cannot be found or read, or if any layer or weight does
            not fit; one message lists every mismatch.

    Example:
        >>> initialize_from(ReActNet(input_shape=(32, 32, 3), num_classes=10), "runs/ReActNet-1")
    """
    source_model = load_model_file(source, "initialize_from")
    kept = copy_weights_by_name(model, source_model, f"initialize_from={source}")
    if kept:
        print(
            f"initialize_from={source}: {len(kept)} weight-quantizer state weights keep their "
            f"initial values (the source has none): {', '.join(kept)}"
        )


def copy_weights_by_name(target: tf.keras.Model, source: tf.keras.Model, described: str) -> List[str]:
    """Assign every weight of `target` from the same-named layer and weight of `source`.

    Args:
        target: the model whose weights are overwritten.
        source: the model read.
        described: how the source is named in the error (`initialize_from=runs/X`).

    Returns:
        The `layer/weight` names of the weight-quantizer state left at its initial value.

    Raises:
        UserError: listing every missing layer, missing or extra weight and shape
            difference, if there is any; then nothing has been assigned.
    """
    target_layers, source_layers = _layers_with_weights(target), _layers_with_weights(source)
    problems, kept, pairs = [], [], []
    missing = [name for name in target_layers if name not in source_layers]
    extra = [name for name in source_layers if name not in target_layers]
    if missing:
        problems.append(f"layers missing from the source: {', '.join(missing)}")
    if extra:
        problems.append(f"layers only in the source: {', '.join(extra)}")
    for name, layer in target_layers.items():
        if name not in source_layers:
            continue
        source_weights = _weights_by_key(source_layers[name])
        state = _weight_quantizer_state(layer)
        for key, weight in _weights_by_key(layer).items():
            found = source_weights.pop(key, None)
            if found is None:
                if any(weight is variable for variable in state):
                    kept.append(f"{name}/{key}")
                else:
                    problems.append(f"{name}/{key} is missing from the source")
            elif tuple(found.shape) != tuple(weight.shape):
                here, there = tuple(weight.shape), tuple(found.shape)
                problems.append(f"{name}/{key} has shape {here} here and {there} in the source")
            else:
                pairs.append((weight, found))
        problems.extend(f"{name}/{key} is only in the source" for key in source_weights)
    if problems:
        hint = (
            " (if the names differ only by a _N suffix, build the model in a fresh process or after "
            "tf.keras.backend.clear_session(), so that Keras' layer name counters start at 0)"
            if missing
            else ""
        )
        raise UserError(
            f"{described} does not fit model {target.name!r}, whose layers are matched by name: "
            f"{'; '.join(problems)}{hint}"
        )
    for weight, found in pairs:
        weight.assign(found.numpy())
    return kept


def _layers_with_weights(model: tf.keras.Model) -> Dict[str, tf.keras.layers.Layer]:
    """Layer name → layer, for the layers that own weights (the others have nothing to copy)."""
    return {layer.name: layer for layer in model.layers if layer.weights}


def _weights_by_key(layer: tf.keras.layers.Layer) -> Dict[str, tf.Variable]:
    """A layer's weights by their own name, `name#k` for the k-th repeat of a name.

    Only the last part of a variable name is stable: the scopes in front of it depend on
    how the layer was built (`quant_conv2d/r_sign/threshold:0` from a builder,
    `threshold:0` from `from_config`) and on Keras' name counters (`batch_normalization_2`).
    """
    keys: Dict[str, tf.Variable] = {}
    counts: Dict[str, int] = {}
    for weight in layer.weights:
        short = weight.name.split("/")[-1]
        counts[short] = counts.get(short, 0) + 1
        keys[short if counts[short] == 1 else f"{short}#{counts[short] - 1}"] = weight
    return keys


def _weight_quantizer_state(layer: tf.keras.layers.Layer) -> Tuple[tf.Variable, ...]:
    """The non-trainable weights of the layer's weight quantizers (absent in stage 1)."""
    state = []
    for attribute in WEIGHT_QUANTIZERS:
        quantizer = getattr(layer, attribute, None)
        if isinstance(quantizer, tf.keras.layers.Layer):
            state.extend(weight for weight in quantizer.weights if not weight.trainable)
    return tuple(state)
