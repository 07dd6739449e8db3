"""Every registered zoo model refuses what it cannot build with one UserError naming
the argument, the value and what is allowed — never a TensorFlow error, never a
silently different model."""

import importlib
import pkgutil

from lab_bnn.errors import UserError

import numpy as np
import pytest
import tensorflow as tf

import zoo.models
from zoo.models import available, get_model

NAMES = available()


def build(name, **arguments):
    zoo_model = get_model(name)
    return zoo_model.build(**{"input_shape": zoo_model.small_input, "num_classes": 10, **arguments})


@pytest.mark.parametrize("name", NAMES)
def test_builds_at_its_smallest_input_and_refuses_one_pixel_less(name):
    zoo_model = get_model(name)
    smallest, channels = zoo_model.min_input_size, zoo_model.small_input[2]
    model = build(name, input_shape=(smallest, smallest + 1, channels))
    x = np.random.RandomState(0).uniform(-1, 1, (2, smallest, smallest + 1, channels))
    assert np.isfinite(model(x.astype(np.float32), training=False).numpy()).all()
    if smallest > 1:
        side = 2 ** int(np.ceil(np.log2(smallest)))
        for shape in ((smallest - 1, smallest, channels), (smallest, smallest - 1, channels)):
            with pytest.raises(
                UserError,
                match=(
                    rf"^{name} needs inputs of at least {smallest}×{smallest} \(height, width\); "
                    rf"received input_shape \({shape[0]}, {shape[1]}, {channels}\)\. .*"
                    rf"input_shape={side},{side},{channels}.* or use a dataset of larger"
                ),
            ):
                build(name, input_shape=shape)


def without_the_input_check(monkeypatch):
    """Lift the minimum everywhere the zoo's builders check it."""
    from zoo.models import factory

    lifted = factory.check_input_shape

    def check_shape_only(model_name, input_shape, min_size=1):
        return lifted(model_name, input_shape, 1)

    for module in pkgutil.iter_modules(zoo.models.__path__):
        module = importlib.import_module(f"zoo.models.{module.name}")
        if getattr(module, "check_input_shape", None) is lifted:
            monkeypatch.setattr(module, "check_input_shape", check_shape_only)


@pytest.mark.parametrize("name", [n for n in NAMES if get_model(n).min_input_size > 1])
def test_the_minimum_is_the_real_limit(name, monkeypatch):
    """With the check lifted, one pixel less fails inside TensorFlow: the minimum
    refuses nothing the model could build."""
    without_the_input_check(monkeypatch)
    zoo_model = get_model(name)
    smallest, channels = zoo_model.min_input_size, zoo_model.small_input[2]
    with pytest.raises(Exception) as error:
        build(name, input_shape=(smallest - 1, smallest - 1, channels))
    assert not isinstance(error.value, UserError)


def multi_input_spatial_shapes(model):
    """(layer name, spatial shapes of its inputs) of every layer with several inputs."""
    found = []
    for layer in model.layers:
        for node in layer.inbound_nodes:
            inputs = tf.nest.flatten(node.keras_inputs)
            if len(inputs) > 1:
                found.append((layer.name, [tuple(t.shape[1:-1]) for t in inputs]))
    return found


@pytest.mark.parametrize("name", NAMES)
def test_no_layer_broadcasts_one_map_over_another(name):
    """Odd and even map sizes: a shortcut and its block agree on the map, so nothing
    is broadcast (BoolNet once spread a 1×1 shortcut over a 2×2 map at 24²). A model
    without shortcuts (XNORNet) has nothing to check until it gets one."""
    zoo_model = get_model(name)
    smallest = zoo_model.min_input_size
    for size in sorted({smallest, smallest + 1, 24, 33} - set(range(smallest))):
        model = build(name, input_shape=(size, size, zoo_model.small_input[2]))
        for layer, shapes in multi_input_spatial_shapes(model):
            assert len(set(shapes)) == 1, (size, layer, shapes)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "lab_blocks,message",
    [
        (("False",) * 4, r"lab_blocks entries must be True or False; received 'False' \(str\)"),
        ((1, 0, 1, 0), r"lab_blocks entries must be True or False; received 1 \(int\)"),
        ("TTFF", r"lab_blocks must be one True/False per stage \(4 for \w+\); received 'TTFF'"),
        ((True, False), r"lab_blocks has 2 entries \(True, False\), \w+ has 4 stages"),
    ],
)
def test_lab_blocks_takes_one_real_bool_per_stage(name, lab_blocks, message):
    with pytest.raises(UserError, match=message):
        build(name, lab_blocks=lab_blocks)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(32, 32), (32, 32, 0), (32.0, 32, 3), "32,32,3"])
def test_a_malformed_input_shape_is_a_user_error(name, shape):
    with pytest.raises(
        UserError,
        match=r"input_shape must be \(height, width, channels\) "
        r"positive integers; received",
    ):
        build(name, input_shape=shape)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("num_classes", [0, 2.5, True])
def test_num_classes_must_be_a_positive_integer(name, num_classes):
    with pytest.raises(
        UserError,
        match=rf"{name} num_classes must be a positive integer; "
        rf"received {num_classes!r}",
    ):
        build(name, num_classes=num_classes)


def test_unknown_model_is_a_user_error():
    with pytest.raises(UserError, match=r"unknown zoo model 'ResNet'; available: BaseNet, "):
        get_model("ResNet")
