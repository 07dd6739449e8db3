"""The contract every registered binarizer keeps (registry-driven, timm style)."""

import inspect
import json
import re

import lab_bnn
from lab_bnn.errors import UserError
from lab_bnn.quantizers import BINARIZERS
from lab_bnn.registry import Registry

import larq as lq
import numpy as np
import pytest
import tensorflow as tf
from larq_compute_engine.tflite.python.interpreter import Interpreter

from converter import convert, read_operators

from contract_models import (
    FORMATS,
    advance_trained_state,
    assert_same_function,
    classes_defined_in,
    end_of_schedule,
    perturb_learned_weights,
    quant_conv_model,
    quantizer_state,
    reload,
)

ALIASES = BINARIZERS.available()
LAYER_KWARGS = {"name", "trainable", "dtype"}  # Keras Layer arguments passed via **kwargs


def role(alias):
    return BINARIZERS.card(alias).role


def test_lab_bnn_registers_its_binarizers():
    expected = {
        "lab",
        "niblack",
        "sauvola",
        "depthwise_sign",
        "bnn",
        "bi_real",
        "scaled_sign",
        "xnor_activation",
        "rsign",
        "recu_weight",
        "recu_activation",
        "fda_sign",
        "fda_weight",
    }
    assert expected <= set(ALIASES)
    assert all(BINARIZERS.card(alias) is not None for alias in ALIASES)


def test_every_binarizer_class_is_registered():
    registered = set(BINARIZERS.classes().values())
    defined = classes_defined_in(lab_bnn.quantizers, lq.quantizers.Quantizer)
    bases = {c for c in defined if any(issubclass(r, c) and r is not c for r in registered)}
    assert defined - bases <= registered


@pytest.mark.parametrize("alias", ALIASES)
def test_config_keys_are_init_arguments_and_round_trip(alias):
    cls = BINARIZERS.lookup(alias)
    config = cls().get_config()
    # larq's base takes `*args, metrics=None` and, like larq, never serializes them.
    init_args = set(inspect.signature(cls.__init__).parameters) - {"self", "args", "kwargs", "metrics"}
    assert set(config) - LAYER_KWARGS == init_args
    as_json = json.loads(json.dumps(config))
    assert json.loads(json.dumps(cls.from_config(as_json).get_config())) == as_json


@pytest.mark.parametrize("alias", ALIASES)
def test_get_and_quant_conv_find_the_alias(alias):
    assert isinstance(lab_bnn.quantizers.get(alias), BINARIZERS.lookup(alias))
    attribute = "input_quantizer" if role(alias) == "activation" else "kernel_quantizer"
    layer = lq.layers.QuantConv2D(8, 3, **{attribute: alias})
    assert isinstance(getattr(layer, attribute), BINARIZERS.lookup(alias))
    assert getattr(layer, attribute).precision == 1


@pytest.mark.parametrize("alias", ALIASES)
def test_outputs_are_binary_up_to_a_scale_and_gradients_finite(alias, rng):
    quantizer = lab_bnn.quantizers.get(alias)
    shape = (2, 8, 8, 32) if role(alias) == "activation" else (3, 3, 32, 16)
    x = tf.constant(rng.randn(*shape), tf.float32)
    quantizer(x)
    if hasattr(quantizer, "update_schedule"):  # FDA's weights are binary once its noise term is off
        quantizer.update_schedule(9, 10)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = quantizer(x)
        loss = tf.reduce_sum(out * tf.constant(rng.randn(*shape), tf.float32))
    out = out.numpy()
    assert set(np.unique(np.sign(out))) <= {-1.0, 1.0}
    # ±1, or ±a scale shared per sample (activations) or per output channel (weights)
    assert len(np.unique(np.abs(out))) <= max(shape[0], shape[-1])
    for grad in tape.gradient(loss, [x] + quantizer.trainable_weights):
        assert grad is not None and np.isfinite(grad.numpy()).all()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("alias", ALIASES)
def test_trained_state_survives_every_format(alias, fmt, rng, tmp_path):
    build = lambda: quant_conv_model(alias, role(alias))  # noqa: E731
    model = build()
    advance_trained_state(model)
    perturb_learned_weights(model, rng, 0.1)
    reloaded = reload(model, fmt, tmp_path, build)
    x, upstream = (rng.randn(4, 8, 8, 32).astype(np.float32) for _ in range(2))
    assert_same_function(model, reloaded, x, upstream)


@pytest.mark.parametrize("fmt", ["h5", "json_config"])
@pytest.mark.parametrize("alias", ALIASES)
def test_a_frozen_layer_keeps_its_binarizer_weights(alias, fmt, rng, tmp_path):
    build = lambda: quant_conv_model(alias, role(alias))  # noqa: E731
    model = build()
    advance_trained_state(model)
    perturb_learned_weights(model, rng, 0.1)
    model.trainable = False
    reloaded = reload(model, fmt, tmp_path, build)
    x = rng.randn(4, 8, 8, 32).astype(np.float32)
    np.testing.assert_array_equal(reloaded(x, training=False), model(x, training=False))


def test_state_is_a_non_trainable_weight_of_the_layer_in_either_slot():
    model = quant_conv_model("fda_sign", "activation", partner="fda_weight")
    layer = model.layers[1]
    for quantizer in (layer.input_quantizer, layer.kernel_quantizer):
        assert quantizer.state_weights
        for weight in quantizer.state_weights:
            assert any(weight is w for w in layer.non_trainable_weights)
            assert not any(weight is w for w in layer.trainable_weights)
    assert len(quantizer_state(model)) == 4  # n and λ of FdaSign and of FdaWeight


@pytest.mark.parametrize("alias", ALIASES)
def test_flip_ratio_metric_is_not_a_weight(alias):
    plain = BINARIZERS.lookup(alias)()
    measured = BINARIZERS.lookup(alias)(metrics=["flip_ratio"])
    shape = (2, 8, 8, 32) if role(alias) == "activation" else (3, 3, 32, 16)
    for quantizer in (plain, measured):
        quantizer(tf.ones(shape))
    assert hasattr(measured, "flip_ratio")
    own_names = lambda q: [w.name.split("/")[-1] for w in q.weights]  # noqa: E731
    assert own_names(measured) == own_names(plain)


@pytest.mark.parametrize("alias", ALIASES)
def test_conversion_matches_card_and_keras(alias, rng):
    card = BINARIZERS.card(alias)
    model = quant_conv_model(alias, role(alias))
    perturb_learned_weights(model, rng, 0.1)
    end_of_schedule(model)
    flatbuffer = convert(model)
    ops = {op.op_type for op in read_operators(flatbuffer)}
    assert ("LceBconv2d" in ops) == card.binary_conv, ops
    assert ops - {"LceQuantize", "LceBconv2d"} == card.float_ops
    x = rng.randn(4, 8, 8, 32).astype(np.float32)
    lce = Interpreter(flatbuffer).predict(x)
    # one sample at a time, as LCE runs it (Sauvola's default R spans the whole batch)
    keras = model.predict(x, batch_size=1, verbose=0)
    np.testing.assert_allclose(lce, keras, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("alias", ALIASES)
def test_summary_counts_binarizer_weights_and_state(alias):
    model = quant_conv_model(alias, role(alias))
    layer = model.layers[1]
    lines = []
    lq.models.summary(model, print_fn=lines.append)
    text = "\n".join(lines).splitlines()
    header = next(line for line in text if "| Layer " in line)
    row = next(line for line in text if f"| {layer.name} " in line)
    # Columns after the output shape; larq leaves out a precision no weight has.
    counts = dict(zip(re.findall(r"# \d+-bit|Memory|\d+-bit MACs", header), row.split(")")[-1].split()))
    assert counts["# 1-bit"] == str(3 * 3 * 32 * 32)  # the binary kernel
    quantizer_weights = sum(
        w.shape.num_elements() for q in (layer.input_quantizer, layer.kernel_quantizer) for w in q.weights
    )
    assert counts.get("# 32-bit", "0") == str(quantizer_weights)
    non_trainable = next(line for line in text if "Non-trainable params" in line).split()[-2]
    assert non_trainable == str(len(quantizer_state(model)))


@pytest.mark.parametrize("alias", ALIASES)
def test_flip_ratio_metric(alias, rng):
    quantizer = BINARIZERS.lookup(alias)(metrics=["flip_ratio"])
    model = quant_conv_model(quantizer, role(alias), batch_size=4)
    model.compile("adam", "mse")
    history = model.fit(rng.randn(4, 8, 8, 32), rng.randn(4, 8, 8, 32), epochs=2, verbose=0)
    flips = [k for k in history.history if k.startswith("flip_ratio")]
    assert flips and all(0.0 <= v <= 1.0 for k in flips for v in history.history[k])


NHWC_ONLY = {"lab", "depthwise_sign", "niblack", "sauvola"}  # spatial binarizers


@pytest.mark.parametrize("alias", ALIASES)
def test_plugs_into_quant_dense(alias, rng):
    attribute = "input_quantizer" if role(alias) == "activation" else "kernel_quantizer"
    layer = lq.layers.QuantDense(8, **{attribute: alias})
    x = rng.randn(4, 16).astype(np.float32)
    if alias in NHWC_ONLY:
        with pytest.raises(UserError, match=r"binarizes 4-D NHWC feature maps"):
            layer(x)
    else:
        assert np.isfinite(layer(x).numpy()).all()


OWN_ALIASES = [a for a in ALIASES if BINARIZERS.lookup(a).__module__.startswith("lab_bnn.")]


@pytest.mark.parametrize("alias", OWN_ALIASES)
def test_wrong_rank_input_is_one_clear_error(alias):
    with pytest.raises(UserError, match=r"binarizes .* received (input )?shape \(7,\)"):
        BINARIZERS.lookup(alias)().build((7,))


def test_duplicate_alias_is_an_error():
    registry = Registry("binarizer")
    with pytest.raises(UserError, match=r"'lab'.*already belongs to lab_bnn.quantizers.lab.LAB"):
        registry.register("lab")(type("Impostor", (lq.quantizers.Quantizer,), {}))


def test_unknown_alias_is_one_clear_error():
    with pytest.raises(
        UserError, match=r"unknown binarizer alias 'labb'; lab-bnn has .*lab.*larq has .*ste_sign"
    ):
        lab_bnn.quantizers.get("labb")
