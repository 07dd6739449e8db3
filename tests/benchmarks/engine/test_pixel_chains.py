"""Runs of pixel-wise ops fused into `LabBnnPixelChain`: every zoo model, converted, gives the same
bits with and without the rewrite at every level and at 1 and 2 threads; a model built to hold
every step kind (aliases, broadcast operands, tensors read outside the run, a model output made
inside it) does too; and a damaged program is refused with the engine's error, not run."""

from __future__ import annotations

import functools

import lab_bnn

import larq as lq
import numpy as np
import pytest
import tensorflow as tf

from benchmarks.engine import fusion, pixel_chains
from benchmarks.engine.interpreter import EngineInterpreter
from benchmarks.flatbuffer_model import load_model, pack_model
from benchmarks.kernel_paths import random_inputs
from converter import convert, read_operators
from tests.benchmarks.engine.fused_vs_unfused import assert_fused_equals_unfused
from tests.benchmarks.engine.test_interpreter import ZOO_CASES
from zoo.models import get_model


@functools.lru_cache(maxsize=None)
def zoo_flatbuffer(case: str) -> bytes:
    name = case.split("-")[0]
    tf.keras.utils.set_random_seed(0)
    model = get_model(name).build(input_shape=get_model(name).small_input, **dict(ZOO_CASES)[case])
    flatbuffer = convert(model)
    tf.keras.backend.clear_session()
    return flatbuffer


def program_words(model, op) -> np.ndarray:
    """A chain's program: the int32 words of its first input's buffer."""
    return np.frombuffer(bytes(model.buffers[model.subgraphs[0].tensors[op.inputs[0]].buffer].data), "<i4")


def chains_in(flatbuffer: bytes) -> list:
    return [op for op in read_operators(fusion.fuse(flatbuffer)[0]) if op.op_type == pixel_chains.PIXEL_CHAIN]


@pytest.mark.parametrize("case", [case for case, _ in ZOO_CASES])
def test_zoo_model_with_chains_equals_without_exactly(case) -> None:
    flatbuffer = zoo_flatbuffer(case)
    if not chains_in(flatbuffer):
        assert not case.startswith("BoolNet"), "BoolNet's blocks are runs of pixel-wise ops"
        return
    engine = EngineInterpreter(flatbuffer, threads=1)
    inputs = [np.concatenate([random_inputs(engine, s)[0] for s in range(2)])]
    assert_fused_equals_unfused(flatbuffer, inputs)


def test_boolnet_blocks_become_chains_and_no_chained_op_is_left() -> None:
    flatbuffer = zoo_flatbuffer("BoolNet-sign")
    before, after = read_operators(flatbuffer), read_operators(fusion.fuse(flatbuffer)[0])
    chains = [op for op in after if op.op_type == pixel_chains.PIXEL_CHAIN]
    assert len(chains) >= 8 and len(after) < len(before) / 2 + 10
    # every chain's first input is its program: the magic word, then the pixels of the maps it reads
    # by rows (a conv's input, read whole, may be on another grid)
    model = load_model(fusion.fuse(flatbuffer)[0])
    for op in chains:
        header, slots, _ = parse(program_words(model, op))
        rows = [
            op.input_shapes[position] for where, position, _ in slots if where == pixel_chains.WHERE["input"]
        ]
        assert header[0] == pixel_chains.MAGIC and {int(np.prod(s[:3])) for s in rows} <= {header[1]}

    # every grouped binary conv became the first step of the chain that reads its output
    def grouped(ops) -> list:
        return [
            op
            for op in ops
            if op.op_type == "LceBconv2d" and op.input_shapes[1][-1] != op.input_shapes[0][-1]
        ]

    assert len(grouped(before)) >= 8 and not grouped(after)


def every_step_model() -> tf.keras.Model:
    """16x16 maps of 64 channels (a 2-thread run splits them): multi-slice sign (through TILE → SUB
    → LceQuantize → LceDequantize), MUL and ADD with same-shape, per-channel and scalar operands,
    RESHAPE, STRIDED_SLICE of channel halves, PACK of them, LceQuantize, MIRROR_PAD; and a grouped
    binary conv (zero padding) whose float output a multi-slice sign reads, a chain's first step."""
    binary = {"input_quantizer": "ste_sign", "kernel_quantizer": "ste_sign"}
    inputs = tf.keras.Input((16, 16, 64))
    sign = lab_bnn.layers.BatchNormSign(2)  # multi-slice sign, as in every BoolNet block
    signs = sign(inputs)  # [16, 16, 128] of ±1
    # mixed = scaled · signs = w + 0.25 · signs: its sign varies from pixel to pixel where |w| < 0.25
    scaled = tf.keras.layers.Lambda(lambda t: t * tf.linspace(-1.0, 1.0, 128) + 0.25)(signs)
    mixed = tf.keras.layers.Multiply()([scaled, signs])
    halves = tf.keras.layers.Reshape((16, 16, 2, 64))(mixed)
    first, second = (tf.keras.layers.Lambda(lambda t, i=i: t[..., i : i + 1, :])(halves) for i in range(2))
    shuffled = tf.keras.layers.Lambda(lambda ab: tf.stack([ab[0], ab[1]], axis=-1))([first, second])
    flat = tf.keras.layers.Reshape((16, 16, 128))(shuffled)
    conv = lq.layers.QuantConv2D(32, 3, padding="same", **binary)
    # read outside the run: the sign's floats (a model output), `flat` (a MEAN reads it: its reshape
    # copies) and `mixed`
    pooled = tf.keras.layers.GlobalAveragePooling2D()(flat)
    # mirror pads of the packed words (quantize_before_pad), REFLECT by 2/1 and 1/2, SYMMETRIC by 1
    reflect = tf.keras.layers.Lambda(lambda t: tf.pad(t, [[0, 0], [2, 1], [1, 2], [0, 0]], "REFLECT"))(flat)
    symmetric = tf.keras.layers.Lambda(lambda t: tf.pad(t, [[0, 0], [1, 1], [1, 1], [0, 0]], "SYMMETRIC"))(
        signs
    )
    padded = [lq.layers.QuantConv2D(16, 3, **binary)(t) for t in (reflect, symmetric)]
    grouped = lq.layers.QuantConv2D(32, 3, padding="same", groups=4, **binary)(flat)
    head_sign = lab_bnn.layers.BatchNormSign(2)
    outputs = [conv(flat), signs, pooled, tf.keras.layers.Reshape((256, 128))(mixed), *padded]
    # the grouped conv's output is a model output too, so the chain writes it (not scratch)
    outputs += [head_sign(grouped), grouped]
    thresholds_away_from_zero((sign, head_sign), seed=2)
    return tf.keras.Model(inputs, outputs)


def thresholds_away_from_zero(signs, seed: int) -> None:
    """Multi-slice signs' batch-norm weights moved off their initial values (zero thresholds)."""
    for layer in signs:
        gamma, beta, mean, variance = layer.batch_norm.weights
        for weight, value in ((beta, 0.3), (mean, -0.2), (variance, 2.0)):
            weight.assign(np.random.default_rng(seed).uniform(0.5, 1.5, weight.shape) * value)


def converted(build) -> bytes:
    tf.keras.utils.set_random_seed(0)
    flatbuffer = convert(build())
    tf.keras.backend.clear_session()
    return flatbuffer


@pytest.fixture(scope="module")
def every_step() -> bytes:
    return converted(every_step_model)


def test_every_step_kind_equals_tflite_runtime_exactly(every_step) -> None:
    chains = chains_in(every_step)
    assert chains, [op.op_type for op in read_operators(fusion.fuse(every_step)[0])]
    model = load_model(fusion.fuse(every_step)[0])
    kinds = set()
    for op in chains:
        words = np.frombuffer(
            bytes(model.buffers[model.subgraphs[0].tensors[op.inputs[0]].buffer].data), "<i4"
        )
        at = 4 + 3 * int(words[2])
        while at < len(words):
            kinds.add(int(words[at]))
            at += 2 + int(words[at + 1])
    names = {v: k for k, v in pixel_chains.STEP.items()}
    assert {names[k] for k in kinds} == set(pixel_chains.STEP)
    assert "LabBnnMirrorPad" not in [op.op_type for op in read_operators(fusion.fuse(every_step)[0])]
    x = np.random.default_rng(4).standard_normal((2, 16, 16, 64)).astype(np.float32)
    assert_fused_equals_unfused(every_step, x)


def parse(words: np.ndarray):
    """(header, slots [where, position, bytes], steps [kind, arguments]) of a chain's program."""
    slots = [list(words[4 + 3 * i : 7 + 3 * i]) for i in range(int(words[2]))]
    steps, at = [], 4 + 3 * len(slots)
    while at < len(words):
        steps.append([int(words[at]), list(words[at + 2 : at + 2 + int(words[at + 1])])])
        at += 2 + int(words[at + 1])
    return list(words[:4]), slots, steps


def encode(header, slots, steps) -> bytes:
    body = [w for kind, args in steps for w in (kind, len(args), *args)]
    return np.asarray([*header, *[w for slot in slots for w in slot], *body], "<i4").tobytes()


def first_step(steps, name: str) -> list:
    return next(step for step in steps if step[0] == pixel_chains.STEP[name])


def to_input(slots, steps, name: str, position: int) -> None:
    """The named step writes slot 0 (the map the chain reads) instead of its own output."""
    step = first_step(steps, name)
    step[1][{"quantize": 1, "binary": 2}[name]] = 0


DAMAGE = {
    # a slot's bytes a pixel that do not match its tensor
    "slot 0: tensor of": lambda slots, steps: slots[0].__setitem__(2, slots[0][2] + 4),
    # an output slot at a negative position
    "has no tensor": lambda slots, steps: next(s for s in slots if s[0] == 1).__setitem__(1, -2),
    # a quantize whose channel count wraps 4 * channels to 0 in 32 bits
    "bad quantize": lambda slots, steps: first_step(steps, "quantize")[1].__setitem__(2, 0x40000000),
    # steps that would write into an input (a constant may be read-only memory)
    "bad add/multiply": lambda slots, steps: to_input(slots, steps, "binary", 0),
    "bad quantize ": lambda slots, steps: to_input(slots, steps, "quantize", 0),
    # an add/multiply reading a mirror pad's whole output as rows of pixels
    "bad add/multiply ": lambda slots, steps: first_step(steps, "binary")[1].__setitem__(
        1, next(i for i, s in enumerate(slots) if s[0] == pixel_chains.WHERE["whole output"])
    ),
    # a conv reading its input as rows of pixels (it reads whole rows around each pixel), or not first
    "bad conv": lambda slots, steps: first_step(steps, "conv")[1].__setitem__(
        0, first_step(steps, "conv")[1][1]
    ),
    "bad conv ": lambda slots, steps: steps.insert(1, steps.pop(steps.index(first_step(steps, "conv")))),
    # a conv whose filter is its output slot (rows a pixel, not a whole input)
    "bad conv  ": lambda slots, steps: first_step(steps, "conv")[1].__setitem__(
        2, first_step(steps, "conv")[1][1]
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_program_is_refused_with_the_engines_error(every_step, damage) -> None:
    fused = fusion.fuse(every_step)[0]
    model = load_model(fused)
    for chain in [op for op in read_operators(fused) if op.op_type == pixel_chains.PIXEL_CHAIN]:
        buffer = model.buffers[model.subgraphs[0].tensors[chain.inputs[0]].buffer]
        header, slots, steps = parse(np.frombuffer(bytes(buffer.data), "<i4"))
        try:
            DAMAGE[damage](slots, steps)
        except StopIteration:  # no step of the kind it damages in this chain
            continue
        break
    buffer.data = encode(header, slots, steps)
    with pytest.raises((RuntimeError, ValueError), match=f"LabBnnPixelChain .*{damage.strip()}"):
        EngineInterpreter(pack_model(model), threads=1, fuse=False)


def conv_head_model() -> tf.keras.Model:
    """Grouped binary convs as chains' first steps beyond every_step's: stride 2 with one padding,
    dilation 2 on maps 64 pixels wide (a unit of 64 KiB would be under a row: it becomes one row),
    outputs that only the chain reads (scratch); and an ungrouped conv, which stays apart."""
    binary = {"input_quantizer": "ste_sign", "kernel_quantizer": "ste_sign"}
    inputs = tf.keras.Input((16, 64, 64))
    convs = [
        lq.layers.QuantConv2D(64, 3, strides=2, padding="same", pad_values=1.0, groups=2, **binary),
        lq.layers.QuantConv2D(128, 3, padding="same", dilation_rate=2, groups=2, **binary),
        lq.layers.QuantConv2D(64, 3, padding="same", **binary),
    ]
    signs = [lab_bnn.layers.BatchNormSign(2) for _ in convs]
    model = tf.keras.Model(inputs, [sign(conv(inputs)) for conv, sign in zip(convs, signs)])
    thresholds_away_from_zero(signs, seed=3)
    return model


@pytest.fixture(scope="module")
def conv_heads() -> bytes:
    return converted(conv_head_model)


def conv_chains(flatbuffer: bytes) -> list:
    """(chain op, its program's slots, its steps) of every chain whose first step is a conv."""
    fused = fusion.fuse(flatbuffer)[0]
    model, found = load_model(fused), []
    for op in chains_in(flatbuffer):
        _, slots, steps = parse(program_words(model, op))
        if steps[0][0] == pixel_chains.STEP["conv"]:
            found.append((op, slots, steps))
    return found


def test_grouped_convs_start_chains_and_give_the_same_bits(conv_heads) -> None:
    found = conv_chains(conv_heads)
    grouped = [op for op in read_operators(conv_heads) if op.op_type == "LceBconv2d"]
    assert len(grouped) == 3 and len(found) == 2  # the ungrouped conv stays an LceBconv2d
    after = [op for op in read_operators(fusion.fuse(conv_heads)[0]) if op.op_type == "LceBconv2d"]
    assert len(after) == 1 and after[0].input_shapes[1][-1] == after[0].input_shapes[0][-1]
    scratch = pixel_chains.WHERE["scratch"]
    assert all(slots[steps[0][1][1]][0] == scratch for _, slots, steps in found)
    x = np.random.default_rng(5).standard_normal((2, 16, 64, 64)).astype(np.float32)
    assert_fused_equals_unfused(conv_heads, x)


def test_a_conv_step_reading_another_tensor_is_refused_as_the_conv_op_would_be(conv_heads) -> None:
    fused = fusion.fuse(conv_heads)[0]
    model = load_model(fused)
    op, slots, steps = conv_chains(conv_heads)[0]
    steps[0][1][0] = steps[0][1][2]  # its filter (a whole 4-D int32 input too) as its input
    buffer = model.buffers[model.subgraphs[0].tensors[op.inputs[0]].buffer]
    header = list(np.frombuffer(bytes(buffer.data), "<i4")[:4])
    buffer.data = encode(header, slots, steps)
    with pytest.raises(
        (RuntimeError, ValueError), match="LceBconv2d channels_in 64 does not fit input words 1"
    ):
        EngineInterpreter(pack_model(model), threads=1, fuse=False)
