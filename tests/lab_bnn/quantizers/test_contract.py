"""The contract every registered binarizer keeps (registry-driven, timm style)."""

import inspect

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

import lab_bnn
from conftest import perturb_weights
from converter import convert, read_operators
from lab_bnn.quantizers import BINARIZERS
from lab_bnn.registry import Registry
from larq_compute_engine.tflite.python.interpreter import Interpreter

ALIASES = BINARIZERS.available()
LAYER_KWARGS = {"name", "trainable", "dtype"}  # Keras Layer arguments passed via **kwargs


def quant_conv_model(alias, batch_size=None):
    inputs = tf.keras.Input((8, 8, 32), batch_size=batch_size)
    x = lq.layers.QuantConv2D(32, 3, padding="same", input_quantizer=alias,
                              kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                              use_bias=False)(inputs)
    return tf.keras.Model(inputs, tf.keras.layers.BatchNormalization()(x))


def test_lab_bnn_registers_its_binarizers():
    assert {"lab", "niblack", "sauvola", "depthwise_sign"} <= set(ALIASES)


@pytest.mark.parametrize("alias", ALIASES)
def test_config_keys_are_init_arguments_and_round_trip(alias):
    cls = BINARIZERS.lookup(alias)
    config = cls().get_config()
    init_args = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    assert set(config) - LAYER_KWARGS == init_args
    assert cls.from_config(config).get_config() == config


@pytest.mark.parametrize("alias", ALIASES)
def test_get_and_quant_conv_find_the_alias(alias):
    assert isinstance(lab_bnn.quantizers.get(alias), BINARIZERS.lookup(alias))
    layer = lq.layers.QuantConv2D(8, 3, input_quantizer=alias)
    assert isinstance(layer.input_quantizer, BINARIZERS.lookup(alias))
    assert layer.input_quantizer.precision == 1


@pytest.mark.parametrize("alias", ALIASES)
def test_outputs_are_binary_and_gradients_finite(alias, rng):
    quantizer = lab_bnn.quantizers.get(alias)
    x = tf.constant(rng.randn(2, 8, 8, 32), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = quantizer(x)
        loss = tf.reduce_sum(out * tf.constant(rng.randn(2, 8, 8, 32), tf.float32))
    assert set(np.unique(out.numpy())) <= {-1.0, 1.0}
    for grad in tape.gradient(loss, [x] + quantizer.trainable_weights):
        assert grad is not None and np.isfinite(grad.numpy()).all()


@pytest.mark.parametrize("fmt", ["h5", "savedmodel"])
@pytest.mark.parametrize("alias", ALIASES)
def test_save_and_load_without_custom_objects(alias, fmt, rng, tmp_path):
    model = quant_conv_model(alias)
    perturb_weights(model, rng, 0.1)
    path = str(tmp_path / ("model.h5" if fmt == "h5" else "model"))
    model.save(path, save_format="h5" if fmt == "h5" else "tf")
    loaded = tf.keras.models.load_model(path)
    assert isinstance(loaded.layers[1].input_quantizer, BINARIZERS.lookup(alias))
    x = rng.randn(4, 8, 8, 32).astype(np.float32)
    np.testing.assert_array_equal(loaded(x, training=False), model(x, training=False))


@pytest.mark.parametrize("alias", ALIASES)
def test_converts_to_binary_conv_matching_keras(alias, rng):
    model = quant_conv_model(alias)
    flatbuffer = convert(model)
    ops = [op.op_type for op in read_operators(flatbuffer)]
    assert ops.count("LceQuantize") == 1 and ops.count("LceBconv2d") == 1, ops
    x = rng.randn(4, 8, 8, 32).astype(np.float32)
    lce = Interpreter(flatbuffer).predict(x)
    np.testing.assert_allclose(lce, model(x, training=False).numpy(), atol=1e-4)


@pytest.mark.parametrize("alias", ALIASES)
def test_summary_counts_binarizer_weights(alias):
    model = quant_conv_model(alias)
    lines = []
    lq.models.summary(model, print_fn=lines.append)
    quantizer_params = model.layers[1].input_quantizer.count_params()
    kernel_params = 3 * 3 * 32 * 32
    row = next(line for line in lines if model.layers[1].name in line)
    assert str(kernel_params) in row and str(quantizer_params) in row


@pytest.mark.parametrize("alias", ALIASES)
def test_flip_ratio_metric(alias, rng):
    with lq.context.metrics_scope(["flip_ratio"]):
        quantizer = BINARIZERS.lookup(alias)(metrics=["flip_ratio"])
    model = quant_conv_model(quantizer, batch_size=4)
    model.compile("adam", "mse")
    x = rng.randn(4, 8, 8, 32)
    history = model.fit(x, rng.randn(4, 8, 8, 32), epochs=2, verbose=0)
    flips = [k for k in history.history if k.startswith("flip_ratio")]
    assert flips and all(0.0 <= v <= 1.0 for k in flips for v in history.history[k])


def test_duplicate_alias_is_an_error():
    registry = Registry("binarizer")
    with pytest.raises(ValueError, match=r"'lab'.*already belongs to lab_bnn.quantizers.lab.LAB"):
        registry.register("lab")(type("Impostor", (lq.quantizers.Quantizer,), {}))


def test_unknown_alias_is_one_clear_error():
    with pytest.raises(ValueError, match=r"unknown binarizer alias 'labb'; lab-bnn has .*lab.*larq has .*ste_sign"):
        lab_bnn.quantizers.get("labb")
