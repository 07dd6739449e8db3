"""`lqz Benchmark`'s latency CSV: every row under its own header, whatever paths agreed;
an older file of other columns is merged, never lost; a corrupt one is left alone."""

import pandas as pd

import benchmarks.tasks
from benchmarks.kernel_paths import KERNEL_PATHS
from benchmarks.latency import LatencyRecord
from benchmarks.tidy_csv import append_rows
from zoo.cli import main


def record(candidates, rejected, median):
    return LatencyRecord(
        host="test host",
        kernel=min(candidates, key=candidates.get),
        threads=1,
        runs=3,
        warmup=1,
        min_ms=median / 2,
        median_ms=median,
        p90_ms=median * 2,
        candidates=candidates,
        rejected=rejected,
    )


def test_benchmark_rows_stay_under_their_headers_when_other_paths_agree(
    tmp_path, monkeypatch, small_bnn_tflite
):
    tflite = tmp_path / "m.tflite"
    tflite.write_bytes(small_bnn_tflite)
    every_path = {path: 1.0 + i for i, path in enumerate(KERNEL_PATHS)}
    without_default = {p: ms for p, ms in every_path.items() if p != "default"}
    runs = iter([record(every_path, {}, 1.0), record(without_default, {"default": "outputs differ"}, 2.0)])
    monkeypatch.setattr(benchmarks.tasks, "measure_latency", lambda *args: next(runs))
    for _ in range(2):
        assert main(["Benchmark", f"tflite={tflite}", "runs=3", "warmup=1"]) == 0

    table = pd.read_csv(tmp_path / "m.latency.csv")
    assert table.median_ms.tolist() == [1.0, 2.0]
    assert table.rejected.isna().tolist() == [True, False]
    assert table.rejected[1] == "default: outputs differ"
    for path, ms in every_path.items():
        assert table[f"median_ms[{path}]"][0] == ms
        assert (
            pd.isna(table[f"median_ms[{path}]"][1])
            if path == "default"
            else table[f"median_ms[{path}]"][1] == ms
        )


def test_a_file_of_other_columns_is_merged_with_every_old_row_kept(tmp_path):
    path = tmp_path / "m.latency.csv"
    path.write_text("model,kernel,median_ms[default]\nA,default,0.25\nB,default,0.5\n")
    assert (
        append_rows(
            path,
            [
                {
                    "model": "C",
                    "kernel": "indirect_bgemm",
                    "median_ms[indirect_bgemm]": 0.125,
                    "rejected": None,
                }
            ],
        )
        == path
    )
    assert path.read_text() == (
        "model,kernel,median_ms[default],median_ms[indirect_bgemm],rejected\n"
        "A,default,0.25,,\nB,default,0.5,,\nC,indirect_bgemm,,0.125,\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.latency.csv"]  # no temp file left


def test_rows_in_another_column_order_land_in_the_files_columns(tmp_path):
    path = tmp_path / "t.csv"
    append_rows(path, [{"a": 1, "b": float("nan")}])
    append_rows(path, [{"b": 4, "a": 3}])
    assert path.read_text() == "a,b\n1,\n3,4\n"


def test_a_file_corrupted_by_the_old_appends_is_left_alone(tmp_path):
    path = tmp_path / "m.latency.csv"
    ragged = "model,median_ms,median_ms[default],rejected\nA,1.0,1.0,\nB,2.0,\n"
    path.write_text(ragged)
    written = append_rows(path, [{"model": "C", "median_ms": 3.0}])
    assert path.read_text() == ragged
    assert written == tmp_path / "m.latency-2.csv"
    assert pd.read_csv(written).to_dict("records") == [{"model": "C", "median_ms": 3.0}]


def test_a_csv_from_before_the_engine_paths_merges_with_their_columns(tmp_path):
    path = tmp_path / "m.latency.csv"
    old = {k: v for k, v in record({"indirect_bgemm": 1.0}, {}, 1.0).as_dict().items() if "engine" not in k}
    append_rows(path, [{"model": "A", **old}])
    new = record({"indirect_bgemm": 2.0, "engine[avx512]": 0.5}, {}, 0.5).as_dict()
    append_rows(path, [{"model": "B", **new}])
    table = pd.read_csv(path)
    assert list(table.columns) == ["model", *old, *(k for k in new if k not in old)]
    assert table["median_ms[indirect_bgemm]"].tolist() == [1.0, 2.0]
    assert pd.isna(table["median_ms[engine[avx512]]"][0]) and table["median_ms[engine[avx512]]"][1] == 0.5
    assert table.kernel.tolist() == ["indirect_bgemm", "engine[avx512]"]
