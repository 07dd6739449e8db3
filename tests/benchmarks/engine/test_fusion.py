"""benchmarks.engine.fusion: LceBconv2d → ADD fused into LabBnnBconv2dAdd, and float MAX_POOL_2D
run by the engine, give outputs equal to the unfused engine's (XNNPACK's max pooling) bit for bit,
at every supported level and 1/2 threads."""

import functools

import larq as lq
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema

from benchmarks.engine import float_ops, fusion, library
from benchmarks.engine.interpreter import EngineInterpreter
from benchmarks.flatbuffer_model import load_model, pack_model
from benchmarks.kernel_paths import random_inputs
from converter import convert, read_operators
from tests.benchmarks.engine.fused_vs_unfused import assert_fused_equals_unfused
from zoo.models import get_model

LEVELS = library.supported_levels()
MODELS = ["QuickNet", "BiRealNet", "ReActNet", "LabBNN"]


@functools.lru_cache(maxsize=None)
def zoo_flatbuffer(name: str) -> bytes:
    tf.keras.utils.set_random_seed(0)
    model = get_model(name).build(input_shape=get_model(name).small_input)
    flatbuffer = convert(model)
    tf.keras.backend.clear_session()
    return flatbuffer


def inputs_for(flatbuffer: bytes, samples: int = 2):
    engine = EngineInterpreter(flatbuffer, fuse=False)
    draws = [random_inputs(engine, seed) for seed in range(samples)]
    return [np.concatenate(arrays) for arrays in zip(*draws)]


def bconv_add_pairs(flatbuffer: bytes):
    """(bconv index, ADD index) where an LceBconv2d's output is read by an ADD."""
    ops = read_operators(flatbuffer)
    return [
        (b.index, a.index)
        for b in ops
        if b.op_type == "LceBconv2d"
        for a in ops
        if a.op_type == "ADD" and b.outputs[0] in a.inputs
    ]


@pytest.mark.parametrize("name", MODELS)
def test_fused_model_equals_unfused_exactly_at_every_level_and_thread_count(name):
    flatbuffer = zoo_flatbuffer(name)
    pairs = bconv_add_pairs(flatbuffer)
    assert pairs, f"{name} has no LceBconv2d -> ADD pair"
    fused, origin = fusion.fuse(flatbuffer, chains=False)
    before, after = read_operators(flatbuffer), read_operators(fused)
    fused_ops = [op for op in after if op.op_type == fusion.FUSED_BCONV_ADD]
    # an LceQuantize reading a fused ADD's output becomes the fused op's second output
    with_bits = [op for op in fused_ops if len(op.outputs) == 2]
    # a PRELU that alone reads the ADD's output comes in as a seventh input (its slopes)
    with_prelu = [op for op in fused_ops if len(op.inputs) == 7]
    # LAB's DEPTHWISE_CONV_2D -> LceQuantize pairs become one op each
    depthwise = [op for op in after if op.op_type == fusion.DEPTHWISE_QUANTIZE]
    assert all(before[origin[op.index]].op_type == "DEPTHWISE_CONV_2D" for op in depthwise)
    removed = len(fused_ops) + len(with_bits) + len(with_prelu) + len(depthwise)
    assert len(after) == len(before) - removed and fused_ops
    if name == "LabBNN":  # every block's ADD is followed by its PRELU, every binary conv's input is LAB's
        assert len(with_prelu) == len(fused_ops) and not [op for op in after if op.op_type == "PRELU"]
        assert len(depthwise) == len(fused_ops)
    else:
        assert not depthwise
    max_pools = [op.index for op in before if op.op_type == "MAX_POOL_2D"]
    assert [origin[op.index] for op in after if op.op_type == fusion.FLOAT_MAX_POOL] == max_pools
    assert not [op for op in after if op.op_type == "MAX_POOL_2D"]
    if name in ("QuickNet", "BiRealNet"):
        assert max_pools
    assert not bconv_add_pairs(fused)
    assert not [q for q in after if q.op_type == "LceQuantize" for f in fused_ops if f.outputs[0] in q.inputs]
    assert len(origin) == len(after)
    assert all(before[origin[op.index]].op_type == "LceBconv2d" for op in fused_ops)
    if name == "QuickNet":  # 12 of its 16 LceQuantize read a residual ADD's output
        assert len(with_bits) == 12
    # the dead intermediate tensors are gone; every other tensor is kept
    model, rewritten = load_model(flatbuffer), load_model(fused)
    # the bconv's output, the ADD's where a PRELU follows, the depthwise conv's float output
    dropped = len(fused_ops) + len(with_prelu) + len(depthwise)
    assert len(rewritten.subgraphs[0].tensors) == len(model.subgraphs[0].tensors) - dropped
    assert_fused_equals_unfused(flatbuffer, inputs_for(flatbuffer))


@pytest.mark.parametrize(
    "activation",
    [
        schema.ActivationFunctionType.RELU,
        schema.ActivationFunctionType.RELU_N1_TO_1,
        schema.ActivationFunctionType.RELU6,
    ],
)
def test_add_fused_activation_is_applied_exactly(activation):
    model = load_model(zoo_flatbuffer("QuickNet"))
    add = schema.BuiltinOperator.ADD
    for op in model.subgraphs[0].operators:
        code = model.operatorCodes[op.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) == add:
            op.builtinOptionsType = schema.BuiltinOptions.AddOptions
            op.builtinOptions = schema.AddOptionsT()
            op.builtinOptions.fusedActivationFunction = activation
    flatbuffer = pack_model(model)
    fused, _ = fusion.fuse(flatbuffer)
    fused_ops = [op for op in read_operators(fused) if op.op_type == fusion.FUSED_BCONV_ADD]
    assert fused_ops and all(op.options["add_activation"] == activation for op in fused_ops)
    assert_fused_equals_unfused(flatbuffer, inputs_for(flatbuffer))


def test_model_without_the_pattern_is_unchanged():
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((8, 8, 64))
    conv = lq.layers.QuantConv2D(
        64,
        3,
        padding="same",
        pad_values=1.0,
        input_quantizer="ste_sign",
        kernel_quantizer="ste_sign",
        use_bias=False,
    )
    y = conv(inputs)
    # the conv's output has two readers (the ADD and the concatenation): nothing to fuse
    outputs = tf.keras.layers.Concatenate()([tf.keras.layers.Add()([y, inputs]), y])
    flatbuffer = convert(tf.keras.Model(inputs, outputs))
    tf.keras.backend.clear_session()
    assert bconv_add_pairs(flatbuffer)
    rewritten, origin = fusion.fuse(flatbuffer)
    before = read_operators(flatbuffer)
    assert origin == list(range(len(before)))
    # the ADD stays an op of its own, now on the engine (float_ops); nothing else changes
    expected = [float_ops.BINARY if op.op_type == "ADD" else op.op_type for op in before]
    assert [op.op_type for op in read_operators(rewritten)] == expected and "ADD" in [
        op.op_type for op in before
    ]
    # a fused model has nothing left to fuse
    fused, _ = fusion.fuse(zoo_flatbuffer("QuickNet"))
    assert fusion.fuse(fused)[0] == fused


def test_op_times_name_fused_ops_at_their_bconv_index():
    flatbuffer = zoo_flatbuffer("QuickNet")
    before = read_operators(flatbuffer)
    for fuse, name in ((True, fusion.FUSED_BCONV_ADD), (False, "LceBconv2d")):
        engine = EngineInterpreter(flatbuffer, fuse=fuse)
        engine.predict(inputs_for(flatbuffer, samples=1))
        times = engine.op_times()
        convs = [(i, kind) for i, kind, _ in times if "Bconv2d" in kind]
        assert convs and all(kind == name and before[i].op_type == "LceBconv2d" for i, kind in convs), fuse
        assert all(ns > 0 for _, _, ns in times)
        if fuse:  # every fused ADD (and LceQuantize after it) maps to its LceBconv2d
            adds = {i: b for i, b in engine.absorbed.items() if before[i].op_type == "ADD"}
            quantizes = {i: b for i, b in engine.absorbed.items() if i not in adds}
            assert sorted(adds.values()) == [i for i, _ in convs]
            assert all(before[b].outputs[0] in before[add].inputs for add, b in adds.items())
            add_of = {b: add for add, b in adds.items()}
            assert quantizes and all(
                before[q].op_type == "LceQuantize" and before[add_of[b]].outputs[0] in before[q].inputs
                for q, b in quantizes.items()
            )
            assert not [i for i, _, _ in times if i in quantizes]  # timed in their fused op
        else:
            assert engine.absorbed == {}
