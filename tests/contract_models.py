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


LAYER_MODELS = {
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


def end_of_schedule(model, epochs=10):
    """Put every scheduled binarizer at its last epoch, the state that is deployed."""
    for binarizer in scheduled_objects(model):
        binarizer.update_schedule(epochs - 1, epochs)
