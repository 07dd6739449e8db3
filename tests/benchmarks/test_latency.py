"""measure_latency: named kernel paths, and "auto" keeping only paths that agree."""

import numpy as np
import pandas as pd
import pytest

import benchmarks.latency as latency
from benchmarks.kernel_paths import KERNEL_PATHS
from benchmarks.latency import LatencyRecord, measure_latency
from benchmarks.zero_padding import conv_model, measure
from converter import convert


def test_auto_times_every_agreeing_path_and_keeps_the_fastest(small_bnn_tflite):
    record = measure_latency(small_bnn_tflite, runs=3, warmup=1)
    assert record.kernel in KERNEL_PATHS
    assert record.rejected == {}, "every path should run SmallBNN and agree with the reference"
    assert set(record.candidates) == set(KERNEL_PATHS)
    assert record.candidates[record.kernel] == min(record.candidates.values())
    assert 0 < record.min_ms <= record.median_ms <= record.p90_ms
    row = pd.DataFrame([record.as_dict()]).iloc[0]
    assert row["kernel"] == record.kernel and row["threads"] == 1 and row["host"]
    assert f"median_ms[{record.kernel}]" in row


def test_auto_drops_a_path_that_cannot_load(grouped_bconv_tflite):
    record = measure_latency(grouped_bconv_tflite, runs=2, warmup=0)
    assert set(record.rejected) == {"default", "default+xnnpack"}
    assert all(why.startswith("failed") for why in record.rejected.values())
    assert record.kernel in record.candidates and not record.kernel.startswith("default")


def break_default_path(monkeypatch, change):
    """Make the "default" kernel path's outputs `change(outputs, inputs)`."""
    made_for_default = []
    real_make, real_run = latency.make_interpreter, latency.run

    def make(flatbuffer, kernel, threads=1):
        interpreter = real_make(flatbuffer, kernel, threads)
        if kernel == "default":
            made_for_default.append(interpreter)
        return interpreter

    def run_broken_on_default(interpreter, inputs):
        outputs = real_run(interpreter, inputs)
        return change(outputs, inputs) if any(interpreter is i for i in made_for_default) else outputs

    monkeypatch.setattr(latency, "make_interpreter", make)
    monkeypatch.setattr(latency, "run", run_broken_on_default)


def test_auto_drops_a_path_whose_outputs_differ(small_bnn_tflite, monkeypatch):
    break_default_path(monkeypatch, lambda outputs, inputs: [o + 1 for o in outputs])
    record = measure_latency(small_bnn_tflite, runs=1, warmup=0)
    assert list(record.rejected) == ["default"]
    assert "outputs differ from reference_bconv's" in record.rejected["default"]
    assert "default" not in record.candidates


def test_auto_drops_a_path_whose_outputs_are_nan(small_bnn_tflite, monkeypatch):
    break_default_path(monkeypatch, lambda outputs, inputs: [o * np.nan for o in outputs])
    record = measure_latency(small_bnn_tflite, runs=1, warmup=0)
    assert list(record.rejected) == ["default"]
    assert record.rejected["default"].startswith(
        "outputs differ from reference_bconv's by inf on the random normal input (NaN"
    )
    assert "default" not in record.candidates


def test_auto_judges_agreement_on_a_constant_input_too(small_bnn_tflite, monkeypatch):
    def wrong_on_zeros(outputs, inputs):
        return [o + 1 for o in outputs] if not any(a.any() for a in inputs) else outputs

    break_default_path(monkeypatch, wrong_on_zeros)
    record = measure_latency(small_bnn_tflite, runs=1, warmup=0)
    assert list(record.rejected) == ["default"]
    assert "on the all-zero input" in record.rejected["default"]


def test_a_named_path_is_timed_alone(small_bnn_tflite):
    record = measure_latency(small_bnn_tflite, runs=2, warmup=0, kernel="indirect_bgemm")
    assert isinstance(record, LatencyRecord) and record.kernel == "indirect_bgemm"
    assert record.candidates == {} and record.runs == 2


def test_a_named_path_that_cannot_load_is_a_value_error(grouped_bconv_tflite):
    with pytest.raises(ValueError, match=r"kernel path 'default' cannot run this model"):
        measure_latency(grouped_bconv_tflite, runs=1, kernel="default")


def test_unknown_kernel_names_the_allowed_ones(small_bnn_tflite):
    with pytest.raises(ValueError, match=r"unknown kernel path 'fast'; allowed: 'auto', 'default'"):
        measure_latency(small_bnn_tflite, kernel="fast")


@pytest.mark.parametrize("cut", [100, -8])
def test_corrupt_flatbuffer_is_a_value_error(small_bnn_tflite, cut):
    with pytest.raises(ValueError, match=r"corrupt TFLite flatbuffer"):
        measure_latency(small_bnn_tflite[:cut], runs=1)


def test_bad_counts_are_value_errors(small_bnn_tflite):
    with pytest.raises(ValueError, match=r"runs must be an integer >= 1; received 0"):
        measure_latency(small_bnn_tflite, runs=0)


@pytest.mark.parametrize("side", [2, 3])
def test_auto_names_a_zero_padded_conv_on_a_map_smaller_than_its_window(side):
    model = conv_model([(side, side)], 3)
    oracle = measure([(side, side)], 3)  # each path against the reference, on LCE
    wrong = set(oracle.kernel_path[oracle.vs_reference > 0.5])
    record = measure_latency(convert(model), runs=1, warmup=0)
    assert set(record.rejected) == wrong and bool(wrong) == (side < 3)
    for why in record.rejected.values():
        assert why.startswith("outputs differ from reference_bconv's by ")
        assert (
            f"likely cause: conv_{side}x{side}: a zero-padded binary conv with a 3×3 "
            f"window on a {side}×{side} map"
        ) in why
        assert "Fix: retrain with pad_values=1.0" in why
