"""LAB's deploy form: fused model equal to the trained one, truly binary after LCE."""

from lab_bnn.quantizers import LAB, DepthwiseSign

import numpy as np
import pytest
import tensorflow as tf
from larq_compute_engine.tflite.python.interpreter import Interpreter

from converter import convert, fuse_for_inference, read_operators
from zoo.models import SmallBNN

from conftest import calibrate_batchnorm, perturb_weights
from sign_margins import tie_free_samples

SHAPE = (12, 12, 1)  # small maps: few near-tie activations per image
FORBIDDEN = {"ARG_MAX", "RESHAPE", "NOT_EQUAL", "BROADCAST_TO"}


@pytest.fixture
def lab_model(rng):
    model = SmallBNN(input_shape=SHAPE, input_quantizer="lab")
    perturb_weights(model, rng, 0.05)
    calibrate_batchnorm(model, rng.rand(32, *SHAPE).astype(np.float32))
    return model


def lab_count(model):
    return sum(isinstance(getattr(l, "input_quantizer", None), LAB) for l in model.layers)


def test_fused_outputs_equal_trained_outputs(lab_model, rng):
    fused = fuse_for_inference(lab_model)
    x = rng.rand(8, *SHAPE).astype(np.float32)
    np.testing.assert_array_equal(fused(x).numpy(), lab_model(x, training=False).numpy())
    quantizers = [getattr(l, "input_quantizer", None) for l in fused.layers]
    assert sum(isinstance(q, DepthwiseSign) for q in quantizers) == lab_count(lab_model) == 4
    assert not any(isinstance(q, LAB) for q in quantizers)


def test_fusion_leaves_the_original_model_alone(lab_model):
    before = [w.numpy().copy() for w in lab_model.weights]
    fuse_for_inference(lab_model)
    assert lab_count(lab_model) == 4
    for w, old in zip(lab_model.weights, before):
        np.testing.assert_array_equal(w.numpy(), old)


def test_each_lab_is_one_depthwise_conv_feeding_lce_quantize_then_bconv(lab_model):
    operators = read_operators(convert(lab_model))
    types = [op.op_type for op in operators]
    assert not FORBIDDEN & set(types), types
    consumers = {}
    for op in operators:
        for tensor in op.inputs:
            consumers.setdefault(tensor, []).append(op)
    depthwise = [op for op in operators if op.op_type == "DEPTHWISE_CONV_2D"]
    assert len(depthwise) == types.count("LceQuantize") == types.count("LceBconv2d") == 4
    for op in depthwise:
        (quantize,) = consumers[op.outputs[0]]
        assert quantize.op_type == "LceQuantize"
        assert [c.op_type for c in consumers[quantize.outputs[0]]] == ["LceBconv2d"]


@pytest.mark.parametrize("kernel", [{}, {"use_indirect_bgemm": True}, {"use_reference_bconv": True}])
def test_lce_interpreter_matches_keras(lab_model, rng, kernel):
    # 1e-5 of each layer's largest pre-sign value: far beyond Keras-vs-LCE rounding
    x = tie_free_samples(lab_model, rng.rand(64, *SHAPE).astype(np.float32), 1e-5, relative=True)[:8]
    assert len(x) >= 4
    keras = lab_model(x, training=False).numpy()
    assert 0.1 < np.abs(keras).max() < 100, "logits should be at a trained model's scale"
    lce = Interpreter(convert(lab_model), **kernel).predict(x)
    np.testing.assert_allclose(lce, keras, rtol=0, atol=1e-4)


def test_fused_model_saves_and_loads(lab_model, rng, tmp_path):
    fused = fuse_for_inference(lab_model)
    fused.save(tmp_path / "fused.h5")
    loaded = tf.keras.models.load_model(tmp_path / "fused.h5")
    x = rng.rand(2, *SHAPE).astype(np.float32)
    np.testing.assert_array_equal(loaded(x).numpy(), fused(x).numpy())


def test_nested_models_are_fused(lab_model, rng):
    inputs = tf.keras.Input(SHAPE)
    outer = tf.keras.Model(inputs, tf.keras.layers.Softmax()(lab_model(inputs)))
    fused = fuse_for_inference(outer)
    x = rng.rand(4, *SHAPE).astype(np.float32)
    np.testing.assert_array_equal(fused(x).numpy(), outer(x, training=False).numpy())
    assert "LceBconv2d" in {op.op_type for op in read_operators(convert(outer))}


def test_subclassed_model_is_one_clear_error():
    class Custom(tf.keras.Model):
        def call(self, x):
            return x

    with pytest.raises(
        ValueError, match=r"functional or Sequential model; received the subclassed model Custom"
    ):
        fuse_for_inference(Custom())
