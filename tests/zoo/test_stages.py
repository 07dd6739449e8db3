"""Two-stage training: the stage-1 model (real weights, binary activations) keeps every
layer name and input quantizer and loses every weight quantizer; a finished stage-1 run's
model.h5 initializes the stage-2 (original) model to exactly its weights; a source that
does not fit is refused in one error listing the mismatches; run folders and .h5 paths."""

import re

from lab_bnn.errors import UserError
from lab_bnn.quantizers import ProgressiveSign

import larq
import numpy as np
import pytest
import tensorflow as tf

from zoo.models import available, get_model
from zoo.training.model_file import resolve_model_file
from zoo.training.stages import float_weights, initialize_from

from conftest import perturb_weights

# One plain BNN, a Bi-Real net, ReActNet (trainable input-quantizer state) and BoolNet
# (ProgressiveSign: non-trainable weight-quantizer state) go through .h5; the others are
# only rebuilt in their stage-1 form.
MODELS = ["SmallBNN", "BiRealNet", "ReActNet", "BoolNet"]
WEIGHT_QUANTIZERS = ("kernel_quantizer", "depthwise_quantizer", "pointwise_quantizer")


def build(name, num_classes=10):
    """The registry model at its small input, in a fresh Keras session (names from 0)."""
    tf.keras.backend.clear_session()
    zoo_model = get_model(name)
    return zoo_model.build(input_shape=zoo_model.small_input, num_classes=num_classes)


def save_run(model, folder):
    """A finished run folder, as `lqz Train…` leaves it: folder/model.h5."""
    folder.mkdir()
    model.save(str(folder / "model.h5"), save_format="h5")
    return folder


def quantizer_state(layer):
    """The weights of the layer's weight quantizers (stage 1 has none)."""
    quantizers = [getattr(layer, name, None) for name in WEIGHT_QUANTIZERS]
    return [w for q in quantizers if isinstance(q, tf.keras.layers.Layer) for w in q.weights]


def assert_stage_one_form(model, stage_1):
    """Same layer names and input quantizers; no weight quantizer or kernel constraint left."""
    assert [layer.name for layer in stage_1.layers] == [layer.name for layer in model.layers]
    quantized = [layer for layer in model.layers if getattr(layer, "kernel_quantizer", None) is not None]
    assert quantized, f"{model.name} has no weight quantizer to remove (or float_weights removed it in place)"
    for before, after in zip(model.layers, stage_1.layers):
        for attribute in WEIGHT_QUANTIZERS:
            assert getattr(after, attribute, None) is None, f"{after.name}.{attribute} kept"
        if getattr(before, "kernel_quantizer", None) is not None:
            assert getattr(after, "kernel_constraint", None) is None, after.name
        input_quantizer = getattr(before, "input_quantizer", None)
        assert type(getattr(after, "input_quantizer", None)) is type(input_quantizer), after.name


@pytest.mark.parametrize("name", [name for name in available() if name not in MODELS])
def test_every_other_registered_model_has_a_stage_one_form(name):
    model = build(name)
    assert_stage_one_form(model, float_weights(model))


@pytest.mark.parametrize("name", MODELS)
def test_stage_one_then_stage_two_gets_exactly_its_weights(name, tmp_path):
    stage_2 = build(name)  # the model `stage=2` builds (one build fewer than a second session)
    stage_1 = float_weights(stage_2)
    assert_stage_one_form(stage_2, stage_1)
    perturb_weights(stage_1, np.random.RandomState(0), 0.1)  # off the values a fresh build has
    expected = {layer.name: [w.numpy() for w in layer.weights] for layer in stage_1.layers}
    run = save_run(stage_1, tmp_path / "stage1")

    initial_state = {
        id(w): w.numpy() for layer in stage_2.layers for w in quantizer_state(layer) if not w.trainable
    }
    initialize_from(stage_2, str(run))

    for layer in stage_2.layers:
        state_ids = {id(w) for w in quantizer_state(layer)}
        copied = [w for w in layer.weights if id(w) not in state_ids]
        assert len(copied) == len(expected[layer.name]), layer.name
        for weight, value in zip(copied, expected[layer.name]):
            np.testing.assert_array_equal(weight.numpy(), value, err_msg=f"{layer.name}/{weight.name}")
        for weight in layer.weights:
            if id(weight) in initial_state:  # ProgressiveSign's T: left at its initial value
                np.testing.assert_array_equal(weight.numpy(), initial_state[id(weight)])
    if name == "BoolNet":
        assert initial_state, "BoolNet's ProgressiveSign state was expected"


def test_a_source_of_another_model_is_refused_in_one_error_listing_layers(tmp_path):
    run = save_run(build("SmallBNN"), tmp_path / "small")
    source_names = {
        layer.name for layer in tf.keras.models.load_model(run / "model.h5", compile=False).layers
    }
    target = build("BiRealNet")
    before = [w.numpy() for w in target.weights]
    with pytest.raises(UserError) as error:
        initialize_from(target, str(run))
    message = str(error.value)
    assert "\n" not in message and f"initialize_from={run}" in message
    missing = [layer.name for layer in target.layers if layer.weights and layer.name not in source_names]
    assert missing, "the test needs layers that SmallBNN lacks"
    assert all(name in message for name in missing), message
    for weight, value in zip(target.weights, before):  # all or nothing
        np.testing.assert_array_equal(weight.numpy(), value)


def test_a_different_class_count_lists_both_shapes_of_each_weight(tmp_path):
    run = save_run(build("SmallBNN", num_classes=10), tmp_path / "ten")
    target = build("SmallBNN", num_classes=3)
    last = target.layers[-1] if target.layers[-1].weights else target.layers[-2]
    with pytest.raises(UserError) as error:
        initialize_from(target, str(run))
    message = str(error.value)
    assert "\n" not in message
    for weight in last.weights:
        short = weight.name.split("/")[-1]
        wrong = tuple(weight.shape[:-1]) + (10,)
        assert (
            f"{last.name}/{short} has shape {tuple(weight.shape)} here and {wrong} in the source" in message
        )


def dense_model(use_bias, quantizer=None):
    """One named Dense layer; the bias, or a weight quantizer, is the only difference."""
    tf.keras.backend.clear_session()
    inputs = tf.keras.Input((3,), name="x")
    layer = larq.layers.QuantDense(4, use_bias=use_bias, kernel_quantizer=quantizer, name="d")
    return tf.keras.Model(inputs, layer(inputs), name="tiny")


def test_a_weight_missing_from_or_extra_in_a_layer_is_refused(tmp_path):
    without_bias = save_run(dense_model(use_bias=False), tmp_path / "without_bias")
    with pytest.raises(
        UserError, match=r"^initialize_from=\S+ does not fit .*: d/bias:0 is missing from the source$"
    ):
        initialize_from(dense_model(use_bias=True), str(without_bias))
    with_bias = save_run(dense_model(use_bias=True), tmp_path / "with_bias")
    with pytest.raises(UserError, match=r": d/bias:0 is only in the source$"):
        initialize_from(dense_model(use_bias=False), str(with_bias))


def test_only_weight_quantizer_state_may_be_missing(tmp_path, capsys):
    run = save_run(dense_model(use_bias=False), tmp_path / "float")
    target = dense_model(use_bias=False, quantizer=ProgressiveSign(temperature=0.5))
    target.layers[-1].kernel.assign(np.zeros((3, 4), np.float32))
    initialize_from(target, str(run))
    np.testing.assert_array_equal(
        target.layers[-1].kernel.numpy(),
        tf.keras.models.load_model(run / "model.h5", compile=False).layers[-1].kernel.numpy(),
    )
    assert "1 weight-quantizer state weights keep their initial values" in capsys.readouterr().out
    (state,) = quantizer_state(target.layers[-1])
    assert state.numpy() == 0.5


def test_model_files_are_run_folders_or_h5_files(tmp_path):
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "model.h5").write_bytes(b"")
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "weights.h5").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("")
    assert resolve_model_file(str(tmp_path / "done"), "teacher") == tmp_path / "done" / "model.h5"
    assert resolve_model_file(str(tmp_path / "weights.h5"), "teacher") == tmp_path / "weights.h5"
    refusals = {
        "unfinished": "has no model.h5; train it to the end first",
        "notes.txt": "is not an .h5 file",
        "missing.h5": "does not exist",
    }
    for entry, reason in refusals.items():
        with pytest.raises(UserError, match=re.escape(f"initialize_from={tmp_path / entry} {reason}")):
            resolve_model_file(str(tmp_path / entry), "initialize_from")
    with pytest.raises(UserError, match="is not a readable Keras .h5 model"):
        initialize_from(dense_model(use_bias=False), str(tmp_path / "weights.h5"))
