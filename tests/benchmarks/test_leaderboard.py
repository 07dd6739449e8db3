"""The leaderboard's settings checks and its columns relative to the float row.
(Training, resuming and the pages: tests/visualization/test_jobs.py.)"""

import json

import numpy as np
import pandas as pd
import pytest

from benchmarks.leaderboard import (
    COLUMNS,
    LEADERBOARD_BINARIZERS,
    check_settings,
    leaderboard_table,
    parse_binarizers,
    run_leaderboard,
)
from benchmarks.leaderboard_row import Budget
from zoo.models import BINARIZER_CHOICES


def test_all_is_every_binarizer_the_issue_names_and_float():
    assert parse_binarizers("all") == list(LEADERBOARD_BINARIZERS)
    assert set(LEADERBOARD_BINARIZERS) == set(BINARIZER_CHOICES)
    assert parse_binarizers(" lab, bnn ") == ["lab", "bnn"]


@pytest.mark.parametrize(
    "text,message",
    [
        ("lab,sign", r"binarizers='lab,sign': unknown 'sign'; allowed: 'all' or .*bnn, xnor_net"),
        ("", r"binarizers='': unknown empty list"),
        ("lab,lab", r"binarizers='lab,lab' names a binarizer twice"),
    ],
)
def test_bad_binarizer_lists_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        parse_binarizers(text)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(epochs=0), "epochs must be a positive integer; received 0"),
        (dict(batch_size=2.5), "batch_size must be a positive integer; received 2.5"),
        (dict(train_examples=-1), "train_examples must be a positive integer; received -1"),
        (dict(learning_rate=0.0), "learning_rate must be positive; received 0.0"),
    ],
)
def test_bad_budgets_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Budget(**kwargs)


def test_a_folder_refuses_rows_of_another_budget(tmp_path):
    first = {"dataset": "FashionMnist", "epochs": 3, "seed": 0}
    check_settings(tmp_path, first)
    saved = (tmp_path / "leaderboard.json").read_bytes()
    check_settings(tmp_path, dict(first))  # the same settings continue it
    with pytest.raises(ValueError, match=r"holds rows trained with other settings \(epochs=3, now 5\)"):
        check_settings(tmp_path, {**first, "epochs": 5})
    assert (tmp_path / "leaderboard.json").read_bytes() == saved


def test_an_unknown_dataset_fails_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'Fashion'; available: .*FashionMnist"):
        run_leaderboard(tmp_path / "board", ["lab"], dataset="Fashion")
    assert not (tmp_path / "board").exists()


def row(binarizer, accuracy, latency_ms, size_bytes, float_macs, binary_macs, status="ok"):
    return {
        "binarizer": binarizer,
        "status": status,
        "accuracy": accuracy,
        "latency_ms": latency_ms,
        "size_bytes": size_bytes,
        "theoretical_float_macs": float_macs,
        "theoretical_binary_macs": binary_macs,
        "theoretical_ops": float_macs + binary_macs / 64,
    }


def test_relative_columns_follow_the_float_row():
    rows = [
        row("lab", 0.90, 2.0, 100, 1_000, 64_000),
        row("float", 0.93, 4.0, 1000, 65_000, 0),
        {"binarizer": "fda", "status": "failed", "conversion": "RuntimeError: boom"},
    ]
    table = leaderboard_table(rows)
    assert list(table.columns) == COLUMNS
    lab = table.set_index("binarizer").loc["lab"]
    assert lab.accuracy_vs_float == pytest.approx(0.90 / 0.93)
    assert lab.points_below_float == pytest.approx(3.0)
    assert lab.size_vs_float == pytest.approx(0.1)
    assert lab.latency_vs_float == pytest.approx(0.5) and lab.measured_speedup_vs_float == pytest.approx(2)
    assert lab.theoretical_speedup_vs_float == pytest.approx(65_000 / 2_000)
    failed = table.set_index("binarizer").loc["fda"]
    assert np.isnan(failed.accuracy) and failed.conversion == "RuntimeError: boom"


def test_without_a_float_row_the_relative_columns_are_empty():
    table = leaderboard_table([row("lab", 0.9, 2.0, 100, 1_000, 64_000)])
    assert table[["accuracy_vs_float", "latency_vs_float", "theoretical_speedup_vs_float"]].isna().all().all()
    assert isinstance(table, pd.DataFrame) and json.loads(table.to_json())  # serialisable
