"""Kernel paths by name: one allowed set, one clear error."""

import numpy as np
import pytest

from benchmarks.kernel_paths import (
    HOST_KERNEL, KERNEL_PATHS, REFERENCE_KERNEL, interpreter_options, make_interpreter,
    max_difference, random_inputs,
)
from benchmarks.timing import HOST_KERNEL_PATH


def test_every_bconv_kernel_with_and_without_xnnpack():
    assert set(KERNEL_PATHS) == {f"{k}{x}" for k in ("default", "indirect_bgemm", "reference_bconv")
                                 for x in ("", "+xnnpack")}
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
