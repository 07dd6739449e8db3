"""Kernel paths by name: one allowed set, one clear error."""

import numpy as np
import pytest

from benchmarks.kernel_paths import (
    HOST_KERNEL,
    KERNEL_PATHS,
    REFERENCE_KERNEL,
    agreement_inputs,
    interpreter_options,
    make_interpreter,
    max_difference,
    random_inputs,
)
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
