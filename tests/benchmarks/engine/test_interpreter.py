"""Whole converted flatbuffers on the engine (tflite-runtime 2.14.0 + our Lce kernels)
against LCE's reference kernel, at every dispatch level this CPU supports.

Zoo cases come from the registries (every model with sign and with LAB, CompactBNN with
every binarizer), so a new model or binarizer joins with no edit here. LCE's optimized
paths are wrong on zero-padded convs over 1×1/2×2 maps: the oracle is always
`use_reference_bconv=True`.
"""

import functools
from typing import Callable, Dict, List, Tuple

import larq as lq
import numpy as np
import pytest
import tensorflow as tf
from larq_compute_engine.tflite.python.interpreter import Interpreter

from benchmarks.engine import kernels, library, tflite_abi
from benchmarks.engine.interpreter import EngineInterpreter
from benchmarks.flatbuffer_model import load_model
from benchmarks.kernel_paths import max_difference, random_inputs
from benchmarks.latency import OUTPUT_TOLERANCE
from converter import convert, read_operators
from tests.benchmarks.engine import numpy_lce_reference as ref
from zoo.models import BINARIZER_CHOICES, available, get_model

SAMPLES = 2
LEVELS = library.supported_levels()
# Sum order and FMA differ from LCE's build: float outputs agree to rounding, not bits.
ROUNDING = 1e-5


def zoo_cases() -> List[Tuple[str, Dict]]:
    cases = []
    for name in available():
        if name == "CompactBNN":
            cases += [(f"CompactBNN-{b}", {"binarizer": b}) for b in BINARIZER_CHOICES]
        else:
            cases += [(f"{name}-sign", {}), (f"{name}-lab", {"lab_blocks": (True,) * 4})]
    return cases


ZOO_CASES = zoo_cases()


@pytest.fixture(scope="module")
def zoo_flatbuffer() -> Callable[[str], bytes]:
    """A zoo case converted (seeded, at its model's small input) on first use, then reused
    within the module; one test per case, so under xdist each case converts once."""
    kwargs_of = dict(ZOO_CASES)

    @functools.lru_cache(maxsize=None)
    def converted(case: str) -> bytes:
        name = case.split("-")[0]
        tf.keras.utils.set_random_seed(0)
        model = get_model(name).build(input_shape=get_model(name).small_input, **kwargs_of[case])
        flatbuffer = convert(model)
        tf.keras.backend.clear_session()
        return flatbuffer

    return converted


def batch(interpreter, seed: int = 0) -> List[np.ndarray]:
    """SAMPLES random samples per input (the models' batch axis is 1)."""
    draws = [random_inputs(interpreter, seed + s) for s in range(SAMPLES)]
    return [np.concatenate(arrays) for arrays in zip(*draws)]


def reference_and_engine(flatbuffer: bytes, level: str, seed: int = 0):
    reference = Interpreter(flatbuffer, use_reference_bconv=True)
    inputs = batch(reference, seed)
    expected = reference.predict(inputs)
    outputs = EngineInterpreter(flatbuffer, threads=1, level=level).predict(inputs)
    as_list = lambda o: list(o) if isinstance(o, list) else [o]  # noqa: E731
    return as_list(outputs), as_list(expected)


@pytest.mark.parametrize("case", [case for case, _ in ZOO_CASES])
def test_zoo_model_agrees_with_lce_reference_at_every_level(zoo_flatbuffer, case):
    for level in LEVELS:
        outputs, expected = reference_and_engine(zoo_flatbuffer(case), level)
        difference = max_difference(outputs, expected)
        assert difference is not None and difference <= OUTPUT_TOLERANCE, (case, level, difference)
        top1, expected_top1 = np.argmax(outputs[0], axis=-1), np.argmax(expected[0], axis=-1)
        assert np.array_equal(top1, expected_top1), (case, level)
    # Two threads: the Lce ops on XNNPACK's pool, whose workers stay awake between ops.
    two = EngineInterpreter(zoo_flatbuffer(case), threads=2)
    outputs = two.predict(batch(two))  # the inputs `expected` came from: same shapes, same seed
    assert (
        max_difference(outputs if isinstance(outputs, list) else [outputs], expected) <= OUTPUT_TOLERANCE
    ), case
    assert two.shares_threads and two.keeps_workers_awake, case


def binary_conv(filters, kernel, **kwargs):
    return lq.layers.QuantConv2D(
        filters, kernel, input_quantizer="ste_sign", kernel_quantizer="ste_sign", use_bias=False, **kwargs
    )


def one_conv(shape, filters, kernel, bitpacked=False, **kwargs) -> bytes:
    """A binary conv with a random BatchNorm after it (the fused multiplier and bias);
    `bitpacked`: a second binary conv reads its sign, so the first writes int32 words."""
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input(shape)
    x = binary_conv(filters, kernel, **kwargs)(inputs)
    norm = tf.keras.layers.BatchNormalization()
    x = norm(x)
    if bitpacked:
        x = binary_conv(filters, 3, padding="same", pad_values=1.0)(x)
    model = tf.keras.Model(inputs, x)
    gamma, beta, mean, var = norm.get_weights()
    rng = np.random.RandomState(1)
    norm.set_weights(
        [
            rng.uniform(-2, 2, gamma.shape),
            rng.normal(0, 2, beta.shape),
            rng.normal(0, 3, mean.shape),
            rng.uniform(0.5, 4, var.shape),
        ]
    )
    return convert(model)


BCONV_VARIANTS = {
    "same-zero-pad-1x1-map": ((1, 1, 64), 32, 3, {"padding": "same", "pad_values": 0.0}),
    "same-zero-pad-2x2-map": ((2, 2, 64), 32, 3, {"padding": "same", "pad_values": 0.0}),
    "same-zero-pad-5x5-map": ((5, 5, 64), 40, 3, {"padding": "same", "pad_values": 0.0}),
    "same-one-pad-1x1-map": ((1, 1, 64), 32, 3, {"padding": "same", "pad_values": 1.0}),
    "same-one-pad-2x2-map": ((2, 2, 96), 32, 3, {"padding": "same", "pad_values": 1.0}),
    "same-one-pad-5x5-map-k5": ((5, 5, 70), 33, 5, {"padding": "same", "pad_values": 1.0}),
    "valid": ((6, 7, 40), 24, 3, {"padding": "valid"}),
    "stride-2-zero-pad": ((7, 8, 64), 32, 3, {"padding": "same", "pad_values": 0.0, "strides": 2}),
    "stride-2-valid": ((9, 9, 33), 16, 3, {"padding": "valid", "strides": 2}),
    "dilation-2": ((8, 8, 32), 32, 3, {"padding": "same", "pad_values": 1.0, "dilation_rate": 2}),
    "groups-2": ((6, 6, 64), 64, 3, {"padding": "same", "pad_values": 1.0, "groups": 2}),
    "groups-4-valid": ((6, 6, 128), 64, 1, {"padding": "valid", "groups": 4}),
    "bitpacked-output": ((6, 6, 64), 64, 3, {"padding": "same", "pad_values": 1.0, "bitpacked": True}),
    "bitpacked-output-2x2-map": (
        (2, 2, 64),
        40,
        3,
        {"padding": "same", "pad_values": 1.0, "bitpacked": True},
    ),
    "bitpacked-output-stride-2-valid": (
        (9, 9, 64),
        72,
        3,
        {"padding": "valid", "strides": 2, "bitpacked": True},
    ),
}


@pytest.fixture(scope="module")
def bconv_flatbuffers() -> Dict[str, bytes]:
    converted = {}
    for name, (shape, filters, kernel, kwargs) in BCONV_VARIANTS.items():
        converted[name] = one_conv(shape, filters, kernel, **kwargs)
        tf.keras.backend.clear_session()
    return converted


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("variant", list(BCONV_VARIANTS))
def test_bconv_variant_agrees_with_lce_reference_to_rounding(bconv_flatbuffers, variant, level):
    outputs, expected = reference_and_engine(bconv_flatbuffers[variant], level, seed=3)
    # Relative to the output scale; one flipped bit of a bitpacked intermediate or one
    # accumulator off by one moves an output by 2·|multiplier|, far above rounding.
    assert max_difference(outputs, expected) <= ROUNDING, (variant, level, max_difference(outputs, expected))


def test_bitpacked_variants_write_int32_words(bconv_flatbuffers):
    for variant in [name for name in BCONV_VARIANTS if name.startswith("bitpacked")]:
        first, second = [
            op for op in read_operators(bconv_flatbuffers[variant]) if op.op_type == "LceBconv2d"
        ]
        filters = BCONV_VARIANTS[variant][1]
        assert first.output_shapes[0][-1] == -(-filters // 32) and first.inputs[4] >= 0, variant
        assert second.output_shapes[0][-1] == filters, variant


@pytest.mark.parametrize("case", ["QuickNet-sign", "BoolNet-sign"])
def test_two_threads_agree_with_one(zoo_flatbuffer, case):
    flatbuffer = zoo_flatbuffer(case)
    inputs = batch(Interpreter(flatbuffer, use_reference_bconv=True), seed=5)
    one_engine, two_engine = (
        EngineInterpreter(flatbuffer, threads=1),
        EngineInterpreter(flatbuffer, threads=2),
    )
    one, two = one_engine.predict(inputs), two_engine.predict(inputs)
    assert max_difference([two], [one]) <= ROUNDING, case
    # At 2 threads the Lce ops run on the interpreter's XNNPACK threadpool, not on a pool of ours.
    assert two_engine.shares_threads and not one_engine.shares_threads
    assert two_engine.keeps_workers_awake and not one_engine.keeps_workers_awake


@pytest.mark.parametrize("level", LEVELS)
def test_op_times_name_every_lce_op_with_its_index(bconv_flatbuffers, level):
    flatbuffer = bconv_flatbuffers["bitpacked-output"]
    engine = EngineInterpreter(flatbuffer, level=level)
    engine.predict(np.zeros((2, *engine.input_shapes[0][1:]), np.float32))
    times = engine.op_times()
    lce = [(i, op.op_type) for i, op in enumerate(read_operators(flatbuffer)) if op.op_type.startswith("Lce")]
    assert [(i, kind) for i, kind, _ in times] == lce
    assert all(ns > 0 for _, _, ns in times) and engine.level == level


def test_layout_check_refuses_a_wrong_expectation_with_one_clear_error():
    lib = library.load()
    seen = tflite_abi.check_layout(lib, 0)
    assert seen == tflite_abi.ProbeView()
    wrong = tflite_abi.ProbeView(input_dims=(1, 2, 3, 41), input_bytes=984)
    with pytest.raises(tflite_abi.EngineAbiMismatch) as error:
        tflite_abi.check_layout(lib, 0, expected=wrong)
    message = str(error.value)
    assert "\n" not in message
    assert (
        "expected input_dims=(1, 2, 3, 41), input_bytes=984; seen input_dims=(1, 2, 3, 40), input_bytes=960"
        in message
    )
    assert isinstance(error.value, library.EngineUnavailable)


def test_threads_must_be_positive(bconv_flatbuffers):
    from lab_bnn.errors import UserError

    with pytest.raises(UserError, match="threads must be a positive integer; received 0"):
        EngineInterpreter(bconv_flatbuffers["valid"], threads=0)


# One-op models whose output transform is the identity on integers (no bias, nothing after
# the conv: multiplier 1, bias 0), so LCE's float output is K − 2·acc exactly.
EXACT_VARIANTS = {
    **{
        f"same-{pad}-pad-{size}x{size}-map": (
            (size, size, 64),
            32,
            3,
            {"padding": "same", "pad_values": value},
        )
        for pad, value in (("zero", 0.0), ("one", 1.0))
        for size in (1, 2, 3, 5)
    },
    "same-zero-pad-2x2-map-k5": ((2, 2, 64), 24, 5, {"padding": "same", "pad_values": 0.0}),
    "same-one-pad-5x5-map-k5": ((5, 5, 64), 24, 5, {"padding": "same", "pad_values": 1.0}),
    "valid": ((6, 7, 64), 24, 3, {"padding": "valid"}),
    "stride-2-zero-pad": ((7, 8, 64), 32, 3, {"padding": "same", "pad_values": 0.0, "strides": 2}),
    "stride-2-valid": ((9, 9, 64), 16, 3, {"padding": "valid", "strides": 2}),
    "dilation-2-zero-pad": ((8, 8, 32), 32, 3, {"padding": "same", "pad_values": 0.0, "dilation_rate": 2}),
    "dilation-2-one-pad": ((8, 8, 32), 32, 3, {"padding": "same", "pad_values": 1.0, "dilation_rate": 2}),
    "groups-2-one-pad": ((6, 6, 64), 64, 3, {"padding": "same", "pad_values": 1.0, "groups": 2}),
    "groups-4-zero-pad": ((5, 5, 128), 64, 3, {"padding": "same", "pad_values": 0.0, "groups": 4}),
    "channels-in-70-zero-pad": ((5, 5, 70), 33, 3, {"padding": "same", "pad_values": 0.0}),
    "channels-in-33-one-pad": ((4, 4, 33), 40, 3, {"padding": "same", "pad_values": 1.0}),
    "channels-in-45-valid": ((6, 6, 45), 20, 3, {"padding": "valid"}),
    # (LCE refuses zero padding with an odd channel count at AllocateTensors: not a variant)
}


@pytest.fixture(scope="module")
def exact_flatbuffers() -> Dict[str, bytes]:
    converted = {}
    for name, (shape, filters, kernel, kwargs) in EXACT_VARIANTS.items():
        tf.keras.utils.set_random_seed(0)
        inputs = tf.keras.Input(shape)
        converted[name] = convert(tf.keras.Model(inputs, binary_conv(filters, kernel, **kwargs)(inputs)))
        tf.keras.backend.clear_session()
    return converted


def bconv_constants(flatbuffer: bytes) -> Tuple[object, Dict[str, np.ndarray]]:
    """The one LceBconv2d and its constant filter words, multiplier and bias."""
    (op,) = [op for op in read_operators(flatbuffer) if op.op_type == "LceBconv2d"]
    model = load_model(flatbuffer)
    tensors = model.subgraphs[0].tensors

    def constant(index: int, dtype) -> np.ndarray:
        data = model.buffers[tensors[index].buffer].data
        return np.frombuffer(bytes(data), dtype).reshape(tensors[index].shape)

    names = ("filter", "multiplier", "bias")
    dtypes = (np.int32, np.float32, np.float32)
    return op, {n: constant(i, d) for n, i, d in zip(names, op.inputs[1:4], dtypes)}


@pytest.mark.parametrize("variant", list(EXACT_VARIANTS))
def test_bconv_accumulators_equal_lce_reference_exactly(exact_flatbuffers, variant):
    flatbuffer = exact_flatbuffers[variant]
    op, constants = bconv_constants(flatbuffer)
    assert np.all(constants["multiplier"] == 1) and np.all(constants["bias"] == 0), variant
    shape, _, _, kwargs = EXACT_VARIANTS[variant]
    filters = constants["filter"]
    groups = kwargs.get("groups", 1)
    backtransform_add = filters.shape[1] * filters.shape[2] * shape[-1] // groups
    reference = Interpreter(flatbuffer, use_reference_bconv=True)
    inputs = batch(reference, seed=7)
    expected = reference.predict(inputs)
    recovered = (backtransform_add - expected.astype(np.int64)) / 2
    assert np.array_equal(recovered, np.round(recovered)), variant  # integral: K − 2·acc
    words = ref.bitpack(inputs[0])
    options = dict(
        channels_in=int(op.options["channels_in"]),
        strides=(int(op.options["stride_height"]), int(op.options["stride_width"])),
        dilations=(int(op.options["dilation_height_factor"]), int(op.options["dilation_width_factor"])),
        padding="same" if op.options["padding"] == 0 else "valid",  # TFLite Padding: 0 SAME, 1 VALID
        pad_values=int(op.options["pad_values"]),
    )
    for level in LEVELS:
        for threads in (1, 2):
            outputs = EngineInterpreter(flatbuffer, threads=threads, level=level).predict(inputs)
            assert np.array_equal(outputs, expected), (variant, level, threads)
            accumulators = kernels.accumulators(words, filters, level=level, threads=threads, **options)
            assert np.array_equal(accumulators, recovered), (variant, level, threads)
