"""Every registered model's zookeeper factory, configured as a training task will do it
(`model.<field>=value` under a parent that also has a `dataset`), builds the model the
keyword builder builds, reflects a non-default field in the layers, and documents every
field a user can set."""

import inspect
from typing import Optional, Sequence

from lab_bnn.errors import UserError
from lab_bnn.layers import MultiSliceBinaryConv2D, MultiSliceSign
from lab_bnn.quantizers import ProgressiveSign

import larq as lq
import pytest
import tensorflow as tf
from larq_zoo.sota.quicknet import QuickNetFactory as LarqZooQuickNetFactory
from zookeeper import ComponentField, Field, component, configure
from zookeeper.core.component import base_getattr

from zoo.datasets import Synthetic, ZooDataset
from zoo.models import (
    BINARIZER_CHOICES,
    MODELS,
    BoolNetFactory,
    CompactBNN,
    CompactBNNFactory,
    QuickNetFactory,
)
from zoo.models.factory import TASK_SET_FIELDS, build_model, configurable_fields, field_meanings

NAMES = sorted(MODELS)
# Factories that wrap a keyword builder of their own (the others' keyword builders
# build the factory, so comparing the two models would compare a thing with itself).
SHELLS = ("SmallBNN", "CompactBNN")


def task_like(factory_class):
    """A component shaped like a training task: a ZooDataset `dataset`, a task-level
    `input_shape` and the factory as its `model`, so zookeeper's field inheritance from
    parent to model happens as it will in a task."""
    cls = type(
        f"TaskLike{factory_class.__name__}",
        (),
        {
            "__annotations__": {
                "dataset": ZooDataset,
                "model": tf.keras.Model,
                "input_shape": Optional[Sequence[int]],
            },
            "dataset": ComponentField(Synthetic),
            "model": ComponentField(factory_class),
            "input_shape": Field(None),
        },
    )
    return component(cls)()


def configured_factory(name, conf):
    """The model factory instance of a task-like parent configured with `conf`."""
    parent = task_like(MODELS[name].factory)
    configure(parent, {"input_shape": MODELS[name].small_input, **conf})
    return base_getattr(parent, "model")  # the factory itself, not its build()


def build_as_task(factory):
    """Build from a configured factory's user fields, the task's input and 10 classes."""
    fields = {name: getattr(factory, name) for name in configurable_fields(type(factory))}
    zoo_model = MODELS[type(factory).model_name]
    return build_model(type(factory), **fields, input_shape=zoo_model.small_input, num_classes=10)


def binary_convs(model):
    return [m for m in model.submodules if isinstance(m, lq.layers.QuantConv2D) and m.kernel_quantizer]


def quantizer_names(model, which):
    return {type(getattr(conv, which)).__name__ for conv in binary_convs(model) if getattr(conv, which)}


def slices(model):
    return {
        m.get_config()["slices"]
        for m in model.submodules
        if isinstance(m, (MultiSliceSign, MultiSliceBinaryConv2D))
    }


def widest_binary_conv(model):
    return max(conv.filters for conv in binary_convs(model))


# name → (a non-default field value as `model.<field>`, what it does to the layers, and
# the same observation on the default model, which must differ).
NON_DEFAULT = {
    "BiRealNet": ({"model.filters": 16}, widest_binary_conv, 16 * 8),
    "LabBNN": ({"model.filters": 16}, widest_binary_conv, 16 * 8),
    "BoolNet": ({"model.k": 2}, slices, {2}),
    "BaseNet": ({"model.k": 2}, slices, {2}),
    "QuickNet": ({"model.section_filters": (32, 48, 64, 96)}, widest_binary_conv, 96),
    "XNORNet": (
        {"model.input_quantizer": "approx_sign"},
        lambda m: quantizer_names(m, "input_quantizer"),
        {"ApproxSign"},
    ),
    "ReActNet": (
        {"model.kernel_quantizer": "ste_sign"},
        lambda m: quantizer_names(m, "kernel_quantizer"),
        {"SteSign"},
    ),
    "SmallBNN": (
        {"model.kernel_quantizer": "scaled_sign"},
        lambda m: quantizer_names(m, "kernel_quantizer"),
        {"ScaledSign"},
    ),
    "CompactBNN": ({"model.binarizer": "float"}, lambda m: len(binary_convs(m)), 0),
}


def test_every_registered_model_has_a_non_default_case():
    assert sorted(NON_DEFAULT) == NAMES


@pytest.fixture(autouse=True)
def fresh_keras_session():
    yield
    tf.keras.backend.clear_session()  # later builds stay fast


@pytest.mark.parametrize("name", NAMES)
def test_factory_under_a_task_keeps_its_defaults_and_a_configured_field_reaches_the_layers(name):
    zoo_model = MODELS[name]
    factory = configured_factory(name, {})
    assert isinstance(factory, zoo_model.factory) and zoo_model.factory.model_name == name
    # Nothing leaks from the parent: the user fields are the factory's own defaults.
    user_fields = lambda f: {n: getattr(f, n) for n in configurable_fields(type(f))}  # noqa: E731
    assert user_fields(factory) == user_fields(zoo_model.factory())
    default = build_as_task(factory)
    assert default.output_shape == (None, 10)
    if name in SHELLS:
        reference = zoo_model.build(input_shape=zoo_model.small_input, num_classes=10)
        assert default.count_params() == reference.count_params()
        kinds = lambda m: [type(layer).__name__ for layer in m.layers]  # noqa: E731
        assert kinds(default) == kinds(reference)
    # A task anneals progressive_sign's temperature exactly when the model has one.
    assert zoo_model.temperature == any(isinstance(m, ProgressiveSign) for m in default.submodules)

    conf, observe, expected = NON_DEFAULT[name]
    factory = configured_factory(name, conf)
    field, value = next(iter(conf.items()))
    assert getattr(factory, field.split(".", 1)[1]) == value
    assert observe(build_as_task(factory)) == expected
    assert observe(default) != expected


def test_a_factory_configured_directly_builds_with_its_fields():
    factory = BoolNetFactory()
    configure(factory, {"k": 2, "padding_mode": "one", "input_shape": (64, 64, 3), "num_classes": 10})
    model = factory.build()
    assert model.output_shape == (None, 10)
    assert slices(model) == {2}
    assert {m.padding_mode for m in model.submodules if isinstance(m, MultiSliceBinaryConv2D)} == {"one"}


def test_larq_zoos_quicknet_factory_fails_under_a_task_and_ours_does_not():
    """larq-zoo's `dataset` field, typed zookeeper.tf.Dataset, inherits the parent's
    ZooDataset; our QuickNetFactory retypes it (the parent above is a faithful task)."""
    parent = task_like(LarqZooQuickNetFactory)
    with pytest.raises(TypeError, match="dataset"):
        configure(parent, {"model.num_classes": 10})
    parent = task_like(QuickNetFactory)
    configure(parent, {"model.sign_quantizer": "ste_sign"})
    assert base_getattr(parent, "model").sign_quantizer == "ste_sign"


@pytest.mark.parametrize("name", NAMES)
def test_every_user_field_has_a_one_line_meaning_and_no_task_set_field_has_one(name):
    factory_class = MODELS[name].factory
    meanings = field_meanings(factory_class)
    user_fields = configurable_fields(factory_class)
    assert "lab_blocks" in user_fields
    assert not set(user_fields) & set(TASK_SET_FIELDS)
    for field in user_fields:
        assert meanings.get(field, "").strip(), f"{name}.{field} has no meaning"
        assert "\n" not in meanings[field]
    # No stale entries: every meaning is of a field the factory has.
    assert set(meanings) <= set(factory_class.__component_fields__) - set(TASK_SET_FIELDS)


def test_field_meanings_merge_along_the_mro_with_the_subclass_winning():
    class Base:
        field_help = {"a": "base a", "b": "base b"}

    class Child(Base):
        field_help = {"b": "child b", "c": "child c"}

    assert field_meanings(Child) == {"a": "base a", "b": "child b", "c": "child c"}


def test_compact_bnn_refuses_an_unknown_binarizer_naming_it_and_every_choice():
    message = rf"^unknown CompactBNN binarizer 'sign'; allowed: {', '.join(BINARIZER_CHOICES)}$"
    parent = task_like(CompactBNNFactory)
    with pytest.raises(UserError, match=message):  # while configuring, before any data
        configure(parent, {"model.binarizer": "sign"})
    with pytest.raises(UserError, match=message):
        CompactBNN(binarizer="sign")
    assert "bnn" in BINARIZER_CHOICES and "float" in BINARIZER_CHOICES


@pytest.mark.parametrize(
    "key,value,message",
    [
        (
            "section_filters",
            (64, 64, 128, 256),
            r"section_filters must be 4 distinct .* received \(64, 64, 128, 256\)",
        ),
        ("section_filters", (30, 64, 128, 256), r"section_filters must be 4 distinct .* multiple of 4"),
        ("section_blocks", (4, 4, 4), r"section_blocks must be 4 positive integers; received \(4, 4, 4\)"),
    ],
)
def test_quicknet_refuses_sections_it_cannot_build(key, value, message):
    with pytest.raises(UserError, match=message):
        configured_factory("QuickNet", {f"model.{key}": value})
    with pytest.raises(UserError, match=message):  # the unconfigured path (keyword builder)
        build_model(QuickNetFactory, input_shape=(32, 32, 3), num_classes=10, **{key: value})


ALIAS_FIELDS = [
    (name, field)
    for name in NAMES
    for field in configurable_fields(MODELS[name].factory)
    if field.endswith(("_quantizer", "_constraint"))
]


def test_the_alias_fields_are_the_ones_expected():
    """Guards ALIAS_FIELDS against an empty or shrinking list."""
    assert ("BiRealNet", "kernel_constraint") in ALIAS_FIELDS and (
        "QuickNet",
        "sign_quantizer",
    ) in ALIAS_FIELDS
    assert {name for name, _ in ALIAS_FIELDS} == set(NAMES) - {"BoolNet", "BaseNet", "CompactBNN"}


@pytest.mark.parametrize("name,field", ALIAS_FIELDS)
def test_an_unknown_alias_is_refused_while_configuring_naming_model_field_and_value(name, field):
    if field.endswith("_quantizer"):
        message = rf"^{name} {field}: unknown binarizer alias 'sgn'; lab-bnn has .*lab.* larq has .*ste_sign"
    else:
        message = (
            rf"^{name} {field}: unknown constraint 'sgn'; use a larq or Keras constraint alias \(weight_clip"
        )
    with pytest.raises(UserError, match=message):
        configured_factory(name, {f"model.{field}": "sgn"})
    if field in inspect.signature(MODELS[name].build).parameters:
        with pytest.raises(UserError, match=message):  # the keyword builder, unconfigured
            MODELS[name].build(input_shape=MODELS[name].small_input, num_classes=10, **{field: "sgn"})


@pytest.mark.parametrize("name", ["BoolNet", "BaseNet"])
@pytest.mark.parametrize(
    "field,value,message",
    [
        ("k", 3, r"k: slices must be 1 or a positive even integer \(1, 2, 4, \.\.\.\); received 3$"),
        ("padding_mode", "zero", r"padding_mode must be one of replicate, one; received 'zero'$"),
    ],
)
def test_boolnet_refuses_k_and_padding_mode_while_configuring(name, field, value, message):
    with pytest.raises(UserError, match=rf"^{name} {message}"):
        configured_factory(name, {f"model.{field}": value})
