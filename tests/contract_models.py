"""Small models that put one registered binarizer or layer to work, for the contracts."""

import larq as lq
import tensorflow as tf

import lab_bnn
from lab_bnn.callbacks import scheduled_objects

SHAPE = (8, 8, 32)


def quant_conv_model(binarizer, role, batch_size=None):
    """Input → one QuantConv2D with `binarizer` as its input or kernel quantizer."""
    quantizers = ({"input_quantizer": binarizer, "kernel_quantizer": "bnn"} if role == "activation"
                  else {"input_quantizer": "bnn", "kernel_quantizer": binarizer})
    inputs = tf.keras.Input(SHAPE, batch_size=batch_size)
    x = lq.layers.QuantConv2D(32, 3, padding="same", use_bias=False,
                              kernel_constraint="weight_clip", **quantizers)(inputs)
    return tf.keras.Model(inputs, x)


def _sign(x):
    return lab_bnn.layers.MultiSliceSign(1)(x)


def _grouped_conv(x, slices=2, padding_mode="one"):
    return lab_bnn.layers.MultiSliceBinaryConv2D(32, 3, slices=slices, padding_mode=padding_mode)(x)


LAYER_MODELS = {
    "multi_slice_sign": lambda x: _grouped_conv(lab_bnn.layers.MultiSliceSign(2)(x)),
    "multi_slice_binary_conv2d": lambda x: _grouped_conv(lab_bnn.layers.MultiSliceSign(2)(x),
                                                         padding_mode="replicate"),
    "logic_xnor": lambda x: _grouped_conv(lab_bnn.layers.LogicXnor()(
        [_sign(x), _sign(tf.keras.layers.BatchNormalization()(x))]), slices=1),
    "logic_or": lambda x: _grouped_conv(lab_bnn.layers.LogicOr()(
        [_sign(x), _sign(tf.keras.layers.BatchNormalization()(x))]), slices=1),
    "batch_norm_sign": lambda x: _grouped_conv(lab_bnn.layers.BatchNormSign(2)(x)),
    "threshold_sign": lambda x: _grouped_conv(lab_bnn.layers.ThresholdSign(2)(x)),
    "local_adaptive_shift": lambda x: _grouped_conv(_sign(lab_bnn.layers.LocalAdaptiveShift()(x)), slices=1),
    "recu_conv2d": lambda x: lab_bnn.layers.ReCUConv2D(32, 3, padding="same", use_bias=False)(x),
    "xnor_plus_plus_conv2d": lambda x: lab_bnn.layers.XnorPlusPlusConv2D(32, 3, padding="same", use_bias=False)(x),
    "rprelu": lambda x: lab_bnn.layers.RPReLU()(lq.layers.QuantConv2D(
        32, 3, padding="same", input_quantizer="bnn", kernel_quantizer="bnn", use_bias=False,
        kernel_constraint="weight_clip")(x)),
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
