"""measure_latency: named kernel paths, and "auto" keeping only paths that agree (the
engine's included). No assertion on which path is faster: timings are not tested."""

import warnings

import numpy as np
import pandas as pd
import pytest

import benchmarks.latency as latency
from benchmarks.engine import library
from benchmarks.kernel_paths import KERNEL_PATHS, auto_engine_path, known_kernel_paths
from benchmarks.latency import LatencyRecord, measure_latency
from benchmarks.zero_padding import conv_model, measure
from converter import convert


def test_auto_times_every_agreeing_path_and_keeps_the_fastest(small_bnn_tflite):
    record = measure_latency(small_bnn_tflite, runs=3, warmup=1)
    engine = f"engine[{library.engine_level()}]"  # this CPU's best, or the forced level
    assert auto_engine_path() == engine
    assert record.rejected == {}, "every path, the engine's included, should agree with the reference"
    assert set(record.candidates) == {*KERNEL_PATHS, engine}
    assert record.kernel in record.candidates
    assert record.candidates[record.kernel] == min(record.candidates.values())
    assert 0 < record.min_ms <= record.median_ms <= record.p90_ms
    row = pd.DataFrame([record.as_dict()]).iloc[0]
    assert row["kernel"] == record.kernel and row["threads"] == 1 and row["host"]
    assert f"median_ms[{record.kernel}]" in row and row[f"median_ms[{engine}]"] > 0


EVERY_COLUMN = [
    *("host kernel threads runs warmup min_ms median_ms p90_ms".split()),
    *(f"median_ms[{path}]" for path in known_kernel_paths()),
    "rejected",
]


def test_csv_columns_are_the_same_whatever_ran():
    assert len(EVERY_COLUMN) == 8 + 9 + 1
    for candidates in ({}, {"default": 1.0}, {"engine[avx2]": 0.5, "indirect_bgemm": 1.0}):
        record = LatencyRecord("h", "default", 1, 1, 0, 1.0, 1.0, 1.0, candidates=candidates)
        assert list(record.as_dict()) == EVERY_COLUMN
        assert all(
            record.as_dict()[f"median_ms[{p}]"] is None for p in known_kernel_paths() if p not in candidates
        )


@pytest.mark.parametrize("level", library.supported_levels())
def test_a_named_engine_path_is_timed_alone_at_its_level(small_bnn_tflite, level):
    record = measure_latency(small_bnn_tflite, runs=2, warmup=1, kernel=f"engine[{level}]")
    assert record.kernel == f"engine[{level}]" and record.candidates == {} and record.median_ms > 0


def test_auto_tries_the_engine_at_the_forced_level(small_bnn_tflite, monkeypatch):
    monkeypatch.setenv(library.LEVEL_ENV, "portable")
    record = measure_latency(small_bnn_tflite, runs=1, warmup=0)
    assert "engine[portable]" in record.candidates and record.rejected == {}
    assert not {"engine[avx2]", "engine[avx512]"} & set(record.candidates)


def test_a_forced_level_this_cpu_lacks_is_one_clear_error(
    small_bnn_tflite, monkeypatch, only_portable_engine
):
    monkeypatch.setenv(library.LEVEL_ENV, "avx512")
    with pytest.raises(
        ValueError,
        match=r"^LAB_BNN_ENGINE_LEVEL='avx512': engine level 'avx512' is not supported "
        r"by this CPU; supported: portable$",
    ):
        measure_latency(small_bnn_tflite, runs=1, warmup=0)
    with pytest.raises(
        ValueError, match=r"this CPU lacks the avx512 level; supported engine paths: engine\[portable\]$"
    ):
        measure_latency(small_bnn_tflite, runs=1, warmup=0, kernel="engine[avx512]")


def test_an_unavailable_engine_leaves_lces_paths_and_says_so_once(small_bnn_tflite, engine_unavailable):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = [measure_latency(small_bnn_tflite, runs=1, warmup=0) for _ in range(2)]
        with pytest.raises(ValueError, match=r"engine unavailable: no C compiler found"):
            measure_latency(small_bnn_tflite, runs=1, warmup=0, kernel="engine[portable]")
    for record in records:
        assert set(record.candidates) == set(KERNEL_PATHS) and record.rejected == {}
        assert list(record.as_dict()) == EVERY_COLUMN  # the engine's columns stay, empty
    said = [str(w.message) for w in caught if "engine unavailable" in str(w.message)]
    assert said == [f"engine unavailable: {engine_unavailable}; LCE's paths are used"]


def test_auto_drops_a_path_that_cannot_load(grouped_bconv_tflite):
    record = measure_latency(grouped_bconv_tflite, runs=2, warmup=0)
    assert set(record.rejected) == {"default", "default+xnnpack"}
    assert all(why.startswith("failed") for why in record.rejected.values())
    assert record.kernel in record.candidates and not record.kernel.startswith("default")


def break_default_path(monkeypatch, change, path="default"):
    """Make the `path` kernel path's outputs `change(outputs, inputs)`."""
    made_for_path = []
    real_make, real_run = latency.make_interpreter, latency.run

    def make(flatbuffer, kernel, threads=1):
        interpreter = real_make(flatbuffer, kernel, threads)
        if kernel == path:
            made_for_path.append(interpreter)
        return interpreter

    def run_broken_on_default(interpreter, inputs):
        outputs = real_run(interpreter, inputs)
        return change(outputs, inputs) if any(interpreter is i for i in made_for_path) else outputs

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


def test_auto_drops_the_engine_when_its_outputs_differ(small_bnn_tflite, monkeypatch):
    engine = auto_engine_path()
    break_default_path(monkeypatch, lambda outputs, inputs: [o + 1 for o in outputs], path=engine)
    record = measure_latency(small_bnn_tflite, runs=1, warmup=0)
    assert list(record.rejected) == [engine] and engine not in record.candidates
    assert record.rejected[engine].startswith("outputs differ from reference_bconv's by ")
    assert record.kernel in KERNEL_PATHS
    assert f"{engine}: outputs differ" in record.as_dict()["rejected"]


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
    with pytest.raises(
        ValueError, match=r"unknown kernel path 'fast'; allowed: 'auto', 'default'.*'engine\[avx512\]'$"
    ):
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
