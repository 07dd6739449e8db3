"""Kernel paths by name: one allowed set, one clear error; the engine one more path."""

import warnings

import numpy as np
import pytest

from benchmarks.engine import library
from benchmarks.engine.interpreter import EngineInterpreter
from benchmarks.kernel_paths import (
    ENGINE_PATHS,
    HOST_KERNEL,
    KERNEL_PATHS,
    REFERENCE_KERNEL,
    agreement_inputs,
    auto_engine_path,
    engine_level_of,
    engine_unavailable_reason,
    interpreter_options,
    known_kernel_paths,
    make_interpreter,
    max_difference,
    random_inputs,
    run,
    runnable_kernel_paths,
)
from benchmarks.latency import OUTPUT_TOLERANCE
from benchmarks.timing import HOST_KERNEL_PATH


def test_every_bconv_kernel_with_and_without_xnnpack():
    assert set(KERNEL_PATHS) == {
        f"{k}{x}" for k in ("default", "indirect_bgemm", "reference_bconv") for x in ("", "+xnnpack")
    }
    assert interpreter_options(REFERENCE_KERNEL)["use_reference_bconv"]
    assert {k for k, v in interpreter_options(HOST_KERNEL).items() if v} == set(HOST_KERNEL_PATH)


def test_unknown_kernel_names_the_allowed_ones():
    with pytest.raises(ValueError, match=r"'fastest'.*default, indirect_bgemm, reference_bconv"):
        interpreter_options("fastest")


def test_random_inputs_match_the_models_inputs(small_bnn_tflite):
    interpreter = make_interpreter(small_bnn_tflite, "indirect_bgemm")
    (x,) = random_inputs(interpreter)
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32


def test_max_difference_is_relative_and_strict_on_integers():
    a = [np.array([100.0, 0.0], np.float32)]
    assert max_difference([a[0] + 1], a) == pytest.approx(0.01)
    assert max_difference([np.array([1, 2], np.int32)], [np.array([1, 3], np.int32)]) == np.inf
    assert max_difference([np.zeros(3, np.float32)], a) is None


def test_nan_or_inf_where_the_reference_is_finite_is_an_infinite_difference():
    reference = [np.array([1.0, 2.0, 3.0], np.float32)]
    assert max_difference([np.array([1.0, np.nan, 3.0], np.float32)], reference) == np.inf
    assert max_difference([np.array([1.0, 2.0, np.inf], np.float32)], reference) == np.inf
    assert max_difference([np.array([np.nan] * 3, np.float32)], reference) == np.inf
    # the same NaN or inf in both is no difference; the finite values still count
    both = [np.array([np.nan, np.inf, 3.0], np.float32)]
    assert max_difference([np.array([np.nan, np.inf, 3.5], np.float32)], both) == 0.5 / 3
    assert max_difference([np.array([np.nan, -np.inf, 3.0], np.float32)], both) == np.inf


def test_agreement_inputs_are_random_and_constant(small_bnn_tflite):
    interpreter = make_interpreter(small_bnn_tflite, REFERENCE_KERNEL)
    inputs = agreement_inputs(interpreter)
    assert list(inputs) == ["random normal", "second random normal", "all-zero"]
    (first,), (second,), (zeros,) = inputs.values()
    assert first.shape == second.shape == zeros.shape == tuple(interpreter.input_shapes[0])
    assert not np.array_equal(first, second) and not zeros.any()
    np.testing.assert_array_equal(first, random_inputs(interpreter)[0])


def test_known_paths_are_lces_then_the_engines_on_any_host():
    assert known_kernel_paths() == [*KERNEL_PATHS, "engine[portable]", "engine[avx2]", "engine[avx512]"]
    assert ENGINE_PATHS == ("engine[portable]", "engine[avx2]", "engine[avx512]")
    assert not set(ENGINE_PATHS) & set(KERNEL_PATHS)  # LCE's flags only there
    assert engine_level_of("engine[avx2]") == "avx2" and engine_level_of("indirect_bgemm") is None


def test_runnable_paths_are_lces_and_the_engine_at_every_supported_level():
    levels = library.supported_levels()
    assert runnable_kernel_paths() == [*KERNEL_PATHS, *(f"engine[{level}]" for level in levels)]


def test_unknown_kernel_lists_the_engine_paths_too():
    with pytest.raises(ValueError, match=r"'fastest'.*reference_bconv\+xnnpack, engine\[portable\], "):
        make_interpreter(b"", "fastest")
    with pytest.raises(ValueError, match=r"'engine\[avx2\]' is the engine's"):
        interpreter_options("engine[avx2]")


@pytest.mark.parametrize("level", library.supported_levels())
def test_engine_path_at_every_supported_level_agrees_with_the_reference(small_bnn_tflite, level):
    engine = make_interpreter(small_bnn_tflite, f"engine[{level}]")
    assert isinstance(engine, EngineInterpreter) and engine.level == level
    reference = make_interpreter(small_bnn_tflite, REFERENCE_KERNEL)
    for name, inputs in agreement_inputs(reference).items():
        difference = max_difference(run(engine, inputs), run(reference, inputs))
        assert difference is not None and difference <= OUTPUT_TOLERANCE, name


def test_an_unavailable_engine_leaves_lces_paths_and_says_so_once(small_bnn_tflite, engine_unavailable):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            assert runnable_kernel_paths() == list(KERNEL_PATHS)
        assert auto_engine_path() is None and engine_unavailable_reason() == engine_unavailable
        make_interpreter(small_bnn_tflite, "indirect_bgemm")  # LCE's paths still run
        with pytest.raises(ValueError, match=r"'engine\[portable\]': engine unavailable: no C compiler"):
            make_interpreter(small_bnn_tflite, "engine[portable]")
    said = [str(w.message) for w in caught if "engine unavailable" in str(w.message)]
    assert said == [f"engine unavailable: {engine_unavailable}; LCE's paths are used"]


def test_an_engine_level_this_cpu_lacks_names_the_supported_ones(small_bnn_tflite, only_portable_engine):
    assert runnable_kernel_paths()[-1] == "engine[portable]" and auto_engine_path() == "engine[portable]"
    with pytest.raises(
        ValueError,
        match=r"^kernel path 'engine\[avx512\]': this CPU lacks the avx512 level; "
        r"supported engine paths: engine\[portable\]$",
    ):
        make_interpreter(small_bnn_tflite, "engine[avx512]")
