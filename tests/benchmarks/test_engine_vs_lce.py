"""Smoke test of `python -m benchmarks.engine_vs_lce`: the printed tables' structure and
the CSV's columns on one small model (speed is never asserted: that is the benchmark's job)."""

import contextlib
import csv
import io

from lab_bnn.errors import UserError

import pytest
import tensorflow as tf

from benchmarks import engine_vs_lce
from benchmarks.engine.interpreter import EngineInterpreter
from benchmarks.kernel_paths import engine_path, invoker, random_inputs
from benchmarks.timing_by_link import placement
from converter import convert, multiply_accumulates, read_operators
from zoo.models import available, get_model

ARGS = ["--models", "QuickNet", "--size", "32", "--runs", "2", "--warmup", "0", "--threads", "1,2"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """main() once: its stdout, its rows, and the folder holding out.csv and cache/."""
    folder = tmp_path_factory.mktemp("engine_vs_lce")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        options = ["--cache-dir", str(folder / "cache"), "--csv", str(folder / "out.csv")]
        rows = engine_vs_lce.main([*ARGS, *options])
    return printed.getvalue(), rows, folder


def test_prints_a_table_per_thread_count_and_a_summary_line(run):
    text, rows, _ = run
    levels = engine_vs_lce.engine_levels()
    lines = text.splitlines()
    assert lines[0].startswith("host: ") and "engine dispatch levels timed: " in lines[1]
    for title in ("1 thread: median ms", "2 threads: median ms"):
        start = next(i for i, line in enumerate(lines) if line.startswith(title))
        header, row = lines[start + 1].split(), lines[start + 2].split()
        assert header[:4] == ["model", "input", "LCE", "best"]
        assert [engine_path(level) for level in levels] == [h for h in header if h.startswith("engine[")]
        assert row[:2] == ["QuickNet", "32²"] and row[2] in engine_vs_lce.LCE_PATHS
        assert len(row) == 4 + 2 * len(levels)
    assert "speed-up over 1 thread (same path)" in text
    assert f"after {engine_vs_lce.SPEED_UP_S * 1e3:.0f} ms of compute on every core" in lines[2]
    if levels:  # the 2-thread engines were built with XNNPACK's workers kept awake
        assert "engine at more than 1 thread: XNNPACK's workers kept awake between ops and calls" in lines
        # the run went in two parts (2 rounds), the link measured around each
        link = next(line for line in lines if line.startswith("core-to-core link (`library.core_link`"))
        assert link.split("): ")[1].count("→") == 2 and "of the run" in link
        trips = [pair.split("→") for pair in link.split("): ")[1].split(" ns;")[0].split(", ")]
        kinds = {placement(float(before), float(after)) for before, after in trips}
        heading = "  speed-up over 1 thread by placement"
        placed = [i for i, line in enumerate(lines) if line.startswith(heading)]
        assert len(placed) == (1 if kinds & {"near", "far"} else 0), (kinds, placed)
        for i in placed:  # a part stayed near or far: each 2-thread engine has 1t and 2t samples from it
            cells = lines[i + 1 : i + 1 + len(levels)]
            assert [c.split()[2] for c in cells] == [engine_path(level) for level in levels]
            assert all(c.split()[:2] == ["QuickNet", "2t"] and "×" in c for c in cells)
    summary = [line for line in lines if line.startswith("QuickNet 32²: 1t: LCE ")]
    assert len(summary) == 1 and "; 2t: LCE " in summary[0]
    for level in levels:
        assert f"QuickNet {engine_path(level)} 1t: " in text and "% of peak" in text
        assert f", {engine_path(level)} " in summary[0] and "×" in summary[0]


def test_csv_is_tidy_with_one_row_per_model_path_and_threads(run):
    _, rows, folder = run
    with open(folder / "out.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert tuple(table[0]) == engine_vs_lce.CSV_COLUMNS
    assert len(table) == len(rows) and len({(r["kernel_path"], r["threads"]) for r in table}) == len(table)
    assert {r["threads"] for r in table} == {"1", "2"} and {r["model"] for r in table} == {"QuickNet"}
    for r in table:
        assert float(r["median_ms"]) > 0 and r["lce_best_path"] in engine_vs_lce.LCE_PATHS
        assert (r["bconv_ms"] != "") == r["kernel_path"].startswith("engine[")
    assert len(list((folder / "cache").glob("*.tflite"))) == 1  # converted once, cached


def test_csv_refuses_to_overwrite_without_force(run):
    _, _, folder = run
    with pytest.raises(UserError, match="exists; pass --force"):
        engine_vs_lce.parse_args(["--csv", str(folder / "out.csv")])
    assert engine_vs_lce.parse_args(["--csv", str(folder / "out.csv"), "--force"]).force


def test_rejects_unknown_models_and_bad_threads():
    with pytest.raises(UserError, match="unknown zoo model 'NoNet'"):
        engine_vs_lce.parse_args(["--models", "NoNet"])
    with pytest.raises(UserError, match="--threads takes comma-separated integers"):
        engine_vs_lce.parse_args(["--threads", "one"])


def test_every_binary_conv_of_every_zoo_model_has_a_throughput_row() -> None:
    """A conv fused with its ADD or starting a pixel chain (BoolNet's grouped ones) keeps its row,
    labelled with what its time includes; every row's MACs are its conv's."""
    for name in available():
        tf.keras.utils.set_random_seed(0)
        flatbuffer = convert(get_model(name).build(input_shape=get_model(name).small_input))
        tf.keras.backend.clear_session()
        engine = EngineInterpreter(flatbuffer, threads=1)
        run = invoker(engine, random_inputs(engine, seed=0))
        layers = engine_vs_lce.bconv_throughput(engine, flatbuffer, run, runs=1)
        convs = {op.index: op for op in read_operators(flatbuffer) if op.op_type == "LceBconv2d"}
        indices = [int(row["layer"].split()[1].split("+")[0].rstrip(":")) for row in layers]  # "op 15+chain:"
        assert sorted(indices) == sorted(convs)
        for index, row in zip(indices, layers):
            assert row["macs"] == multiply_accumulates(convs[index]) and row["seconds"] > 0, row
        if name == "BoolNet":
            assert any("+chain" in row["layer"] for row in layers)
