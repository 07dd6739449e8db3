"""`lqz Quickstart` and `lqz Leaderboard` end to end on a tiny budget: the pages draw in
headless Chromium and their tables hold the CSV's numbers; a killed leaderboard keeps
its finished rows and resumes the interrupted one from its checkpoint."""

import json
import signal
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from visualization.leaderboard_page import DECIMALS, TABLE_COLUMNS, op_profile_table
from visualization.op_profile import op_profile_segments
from zoo.cli import main

from chromium_page import RenderedMarks, chromium, render  # noqa: F401 (chromium: fixture)
from html_tables import read_tables
from lqz_process import lqz, start_lqz

TINY = ["epochs=1", "train_examples=192", "validation_examples=96", "batch_size=32"]


def assert_table_matches(shown: pd.DataFrame, stored: pd.DataFrame, key: str, columns):
    """Every cell of the page's table equals the CSV's value (rounded as displayed)."""
    assert list(shown.columns) == list(columns)
    assert sorted(shown[key]) == sorted(stored[key].astype(str))
    stored = stored.set_index(stored[key].astype(str))
    for _, page_row in shown.iterrows():
        csv_row = stored.loc[page_row[key]]
        for column in columns:
            value = csv_row[column]
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                if pd.isna(value):
                    assert page_row[column] == "", (column, page_row[column])
                else:
                    assert float(page_row[column]) == round(float(value), DECIMALS), column
            else:
                assert page_row[column] == str(value), column


def test_quickstart_report_draws_and_its_tables_match_the_csv(tmp_path, chromium):  # noqa: F811
    out = tmp_path / "quickstart"
    assert main(["Quickstart", *TINY, f"output_dir={out}"]) == 0

    stored = pd.read_csv(out / "leaderboard.csv")
    assert list(stored.binarizer) == ["lab", "bnn"] and (stored.status == "ok").all()
    assert (stored.binary_convs == 4).all() and (stored.parity_top1_agreement > 0.9).all()
    assert (stored.latency_ms > 0).all() and stored.host.str.contains("cores").all()
    page = (out / "report.html").read_text(encoding="utf-8")
    leaderboard, *audits = read_tables(page)
    assert_table_matches(leaderboard, stored, "binarizer", TABLE_COLUMNS)
    assert len(audits) == 2
    for audit_table, binarizer in zip(audits, ["lab", "bnn"]):  # page order: LAB, then sign
        audit_csv = pd.read_csv(out / "runs" / binarizer / "audit.csv")
        assert_table_matches(audit_table, audit_csv, "index", list(audit_csv.columns))

    drawn = RenderedMarks(render(chromium, out / "report.html", tmp_path / "profile", window="1100,2400"))
    assert drawn.svg_roots == 2  # the accuracy/latency scatter and the op profile
    profiles = {
        title: pd.read_csv(out / "runs" / b / "op_profile.csv")
        for title, b in (("LAB", "lab"), ("BNN", "bnn"))
    }
    segments = op_profile_segments(op_profile_table(profiles), top_n=8)  # the chart's default
    # One scatter point per model, plus one bar segment per op type it spends time in.
    assert drawn.marks_per_model() == Counter(segments.model) + Counter(["LAB", "BNN"])
    assert 'class="chart-error"' not in page


def wait_for(condition, process, timeout=300):
    deadline = time.time() + timeout
    while not condition():
        assert process.poll() is None, "lqz Leaderboard ended before it could be killed"
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_killed_leaderboard_keeps_finished_rows_and_resumes_the_interrupted_one(tmp_path, chromium):  # noqa: F811
    out = tmp_path / "board"
    args = [
        "Leaderboard",
        "binarizers=bnn,float",
        "epochs=4",
        "train_examples=1024",
        "validation_examples=64",
        "batch_size=32",
        f"output_dir={out}",
        "images=False",
    ]
    first_result = out / "runs" / "bnn" / "result.json"
    float_checkpoint = out / "runs" / "float" / "checkpoints" / "checkpoint"
    process = start_lqz(*args, log_path=tmp_path / "killed.log")
    try:
        wait_for(float_checkpoint.exists, process)  # bnn finished, float 1+ epoch in
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    finished = first_result.read_bytes(), first_result.stat().st_mtime_ns
    model_time = (out / "runs" / "bnn" / "model.h5").stat().st_mtime_ns
    partial = pd.read_csv(out / "leaderboard.csv")
    assert list(partial.binarizer) == ["bnn"]

    rerun = lqz(*args)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert (first_result.read_bytes(), first_result.stat().st_mtime_ns) == finished
    assert (out / "runs" / "bnn" / "model.h5").stat().st_mtime_ns == model_time  # not retrained
    assert "[1/2] bnn: finished by an earlier run, kept" in rerun.stdout
    assert "training CompactBNN" not in rerun.stdout.split("[2/2]")[0]
    assert "resumed from" in rerun.stdout and "epochs done" in rerun.stdout
    metrics = pd.read_csv(out / "runs" / "float" / "metrics.csv")
    assert list(metrics.epoch) == [0, 1, 2, 3]  # each epoch once: none lost, none repeated
    config = json.loads((out / "runs" / "float" / "config.json").read_text())
    assert config["binarizer"] == "float" and config["epochs"] == 4

    stored = pd.read_csv(out / "leaderboard.csv")
    assert list(stored.binarizer) == ["bnn", "float"] and (stored.status == "ok").all()
    assert stored.set_index("binarizer").loc["float", "latency_vs_float"] == 1.0
    page = out / "leaderboard.html"
    leaderboard = read_tables(page.read_text(encoding="utf-8"))[0]
    assert_table_matches(leaderboard, stored, "binarizer", TABLE_COLUMNS)
    drawn = RenderedMarks(render(chromium, page, tmp_path / "profile", window="1100,1600"))
    assert drawn.svg_roots == 2  # accuracy/latency and theoretical/measured speed-up
    assert Counter(drawn.marks_per_model())["BNN"] == 1
    assert not list(Path(out).glob("*.png"))  # images=False
