"""Small models that put one registered binarizer or layer to work, for the contracts,
and the save formats their trained state must survive."""

import importlib
import json
import pkgutil

import lab_bnn
from lab_bnn.callbacks import scheduled_objects
from lab_bnn.quantizers import BinarizerBase

import larq as lq
import numpy as np
import tensorflow as tf

SHAPE = (8, 8, 32)


def quant_conv_model(binarizer, role, batch_size=None, partner="bnn"):
    """Input → one QuantConv2D with `binarizer` as its input or kernel quantizer and
    `partner` in the other slot."""
    quantizers = (
        {"input_quantizer": binarizer, "kernel_quantizer": partner}
        if role == "activation"
        else {"input_quantizer": partner, "kernel_quantizer": binarizer}
    )
    inputs = tf.keras.Input(SHAPE, batch_size=batch_size)
    x = lq.layers.QuantConv2D(
        32, 3, padding="same", use_bias=False, kernel_constraint="weight_clip", **quantizers
    )(inputs)
    return tf.keras.Model(inputs, x)


def _sign(x):
    return lab_bnn.layers.MultiSliceSign(1)(x)


def _grouped_conv(x, slices=2, padding_mode="one"):
    return lab_bnn.layers.MultiSliceBinaryConv2D(32, 3, slices=slices, padding_mode=padding_mode)(x)


LAYER_MODELS = {
    "multi_slice_sign": lambda x: _grouped_conv(lab_bnn.layers.MultiSliceSign(2)(x)),
    "multi_slice_binary_conv2d": lambda x: _grouped_conv(
        lab_bnn.layers.MultiSliceSign(2)(x), padding_mode="replicate"
    ),
    "logic_xnor": lambda x: _grouped_conv(
        lab_bnn.layers.LogicXnor()([_sign(x), _sign(tf.keras.layers.BatchNormalization()(x))]), slices=1
    ),
    "logic_or": lambda x: _grouped_conv(
        lab_bnn.layers.LogicOr()([_sign(x), _sign(tf.keras.layers.BatchNormalization()(x))]), slices=1
    ),
    "batch_norm_sign": lambda x: _grouped_conv(lab_bnn.layers.BatchNormSign(2)(x)),
    "threshold_sign": lambda x: _grouped_conv(lab_bnn.layers.ThresholdSign(2)(x)),
    "local_adaptive_shift": lambda x: _grouped_conv(_sign(lab_bnn.layers.LocalAdaptiveShift()(x)), slices=1),
    "recu_conv2d": lambda x: lab_bnn.layers.ReCUConv2D(32, 3, padding="same", use_bias=False)(x),
    "xnor_plus_plus_conv2d": lambda x: lab_bnn.layers.XnorPlusPlusConv2D(
        32, 3, padding="same", use_bias=False
    )(x),
    "rprelu": lambda x: lab_bnn.layers.RPReLU()(
        lq.layers.QuantConv2D(
            32,
            3,
            padding="same",
            input_quantizer="bnn",
            kernel_quantizer="bnn",
            use_bias=False,
            kernel_constraint="weight_clip",
        )(x)
    ),
}


def layer_model(alias):
    """Input → the registered layer in its usual place."""
    if alias not in LAYER_MODELS:
        raise KeyError(f"add an example model for the new layer {alias!r} to LAYER_MODELS")
    inputs = tf.keras.Input(SHAPE)
    return tf.keras.Model(inputs, LAYER_MODELS[alias](inputs))


def layer_of(model, alias):
    """The layer of the registered class `alias` in `model`."""
    cls = lab_bnn.layers.LAYERS.lookup(alias)
    return next(layer for layer in model.layers if type(layer) is cls)


def end_of_schedule(model, epochs=10):
    """Put every scheduled binarizer at its last epoch, the state that is deployed."""
    for binarizer in scheduled_objects(model):
        binarizer.update_schedule(epochs - 1, epochs)


def quantizer_state(model):
    """Every lab-bnn quantizer's state weight in `model`, in a fixed order."""
    quantizers = [m for m in model.submodules if isinstance(m, BinarizerBase)]
    return [w for q in quantizers for w in q.state_weights]


def advance_trained_state(model, epoch=7, epochs=10):
    """Put every schedule at `epoch` of `epochs`; a state no epoch schedule moves
    (ProgressiveSign's T, lowered per step by TemperatureSchedule) is set to 0.7× its
    value (+3 for integers). Returns the state weights, all off their initial values."""
    state = quantizer_state(model)
    initial = [w.numpy() for w in state]
    for scheduled in scheduled_objects(model):
        scheduled.update_schedule(epoch, epochs)
    for weight, before in zip(state, initial):
        if weight.numpy() == before:
            weight.assign(before + 3 if weight.dtype.is_integer else before * 0.7)
    moved = [w.numpy() != before for w, before in zip(state, initial)]
    assert all(moved), "a state weight is still at its initial value: teach advance_trained_state"
    return state


def perturb_learned_weights(model, rng, scale):
    """Move every weight but the quantizers' state (which advance_trained_state sets to
    values the schedules can reach) off its initial value."""
    state = {id(w) for w in quantizer_state(model)}
    for w in model.weights:
        if id(w) not in state:
            w.assign(w + np.asarray(rng.randn(*w.shape) * scale, np.float32))


FORMATS = ("h5", "h5_weights", "savedmodel", "checkpoint", "json_config")


def reload(model, fmt, directory, rebuild):
    """`model` stored in `fmt` under `directory` and read back. `rebuild()` makes a
    fresh model of the same architecture for the formats that hold weights only."""
    if fmt in ("h5", "savedmodel"):  # load_model without custom_objects
        path = str(directory / ("model.h5" if fmt == "h5" else "model"))
        model.save(path, save_format="h5" if fmt == "h5" else "tf")
        return tf.keras.models.load_model(path)
    if fmt == "json_config":
        fresh = tf.keras.Model.from_config(json.loads(json.dumps(model.get_config())))
        fresh.set_weights(model.get_weights())
        return fresh
    fresh = rebuild()
    if fmt == "h5_weights":
        model.save_weights(str(directory / "weights.h5"))
        fresh.load_weights(str(directory / "weights.h5"))
    elif fmt == "checkpoint":
        prefix = tf.train.Checkpoint(model=model).write(str(directory / "ckpt"))
        tf.train.Checkpoint(model=fresh).read(prefix).assert_consumed()
    else:
        raise KeyError(f"unknown format {fmt!r}; known: {FORMATS}")
    return fresh


def assert_same_function(model, reloaded, x, upstream):
    """Bit-equal state, inference outputs, training outputs and gradients (to the
    input and to every trainable weight) of two models of one architecture."""
    for saved, restored in zip(quantizer_state(model), quantizer_state(reloaded), strict=True):
        np.testing.assert_array_equal(restored.numpy(), saved.numpy(), err_msg=saved.name)
    x = tf.constant(x)
    np.testing.assert_array_equal(reloaded(x, training=False), model(x, training=False))
    results = []
    for m in (model, reloaded):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = m(x, training=True)
            loss = tf.reduce_sum(out * upstream)
        results.append([out, *tape.gradient(loss, [x, *m.trainable_weights])])
    assert len(results[0]) == len(results[1])
    for saved, restored in zip(*results):
        np.testing.assert_array_equal(restored, saved)


def classes_defined_in(package, base):
    """Every subclass of `base` defined in a module of `package`."""
    found = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found |= {
            obj
            for obj in vars(module).values()
            if isinstance(obj, type) and issubclass(obj, base) and obj.__module__ == module.__name__
        }
    return found
