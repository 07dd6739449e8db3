"""benchmarks.recipes_fashion_mnist at a tiny budget: the table, the CSV, the teacher
run and the refusals (the accuracies' order is the benchmark's finding, not tested)."""

import csv
import json
from pathlib import Path

from lab_bnn.errors import UserError

import pytest

from benchmarks import recipes_fashion_mnist as bench

TINY = ["--train-examples", "128", "--epochs", "1", "--batch-size", "64", "--test-examples", "64"]


def test_tiny_run_prints_four_rows_and_writes_the_csv(tmp_path, capsys):
    rows = bench.main([*TINY, "--output-dir", str(tmp_path)])
    out = capsys.readouterr().out
    table = out[out.index("binarizer ") :].splitlines()
    assert table[0].split()[:4] == ["binarizer", "teacher", "test_accuracy", "train_seconds"]
    printed = [line.split()[:4] for line in table[1:5]]
    assert sorted((b, t) for b, t, _, _ in printed) == [
        ("LAB", "no"),
        ("LAB", "yes"),
        ("sign", "no"),
        ("sign", "yes"),
    ]
    for _, _, accuracy, seconds in printed:
        assert 0.0 <= float(accuracy) <= 1.0 and float(seconds) > 0
    assert table[5] == f"csv: {tmp_path / bench.CSV_NAME}"

    with open(tmp_path / bench.CSV_NAME, newline="") as f:
        written = list(csv.DictReader(f))
    assert list(written[0]) == list(bench.CSV_COLUMNS) and len(written) == 4
    for row, line in zip(written, printed):
        assert [row["binarizer"], row["teacher"]] == line[:2]
        assert float(row["test_accuracy"]) == pytest.approx(float(line[2]), abs=1e-4)
        assert (row["train_examples"], row["epochs"], row["test_examples"]) == ("128", "1", "64")
    # Each row's accuracy is its run's last val_accuracy, on the 64 test images asked for.
    for row in written:
        with open(f"{row['run_dir']}/metrics.csv", newline="") as f:
            epochs = list(csv.DictReader(f))
        assert len(epochs) == 1
        assert float(row["test_accuracy"]) == pytest.approx(float(epochs[-1]["val_accuracy"]), abs=1e-4)

    (teacher_dir,) = tmp_path.glob("runs-*/teacher")
    assert (teacher_dir / "model.h5").is_file()
    config = json.loads((teacher_dir / "config.json").read_text())
    assert (config["task"], config["model_fields"]["binarizer"]) == ("TrainCompactBNN", "float")
    for row in written:
        config = json.loads((Path(row["run_dir"]) / "config.json").read_text())
        assert config["task"] == "TrainBiRealNet" and config["input_shape"] == [32, 32, 3]
        assert config["model_fields"]["input_quantizer"] == "approx_sign"
        lab = [True] * 4 if row["binarizer"] == "LAB" else [False] * 4
        assert config["model_fields"]["lab_blocks"] == lab
        assert config["teacher"] == (str(teacher_dir) if row["teacher"] == "yes" else None)
    assert [str(r[k]) for r in rows for k in bench.CSV_COLUMNS] == [
        r[k] for r in written for k in bench.CSV_COLUMNS
    ]

    with pytest.raises(UserError, match="exists; pass --force"):
        bench.main([*TINY, "--output-dir", str(tmp_path)])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs", "0"], "--epochs must be a positive integer; received 0"),
        (["--train-examples", "70000"], "--train-examples must be at most 60000"),
        (["--test-examples", "10001"], "--test-examples must be at most 10000"),
        (["--train-examples", "32", "--batch-size", "64"], "--batch-size must be at most --train-examples"),
        (["--seed", "-1"], "--seed must be a non-negative integer; received -1"),
    ],
)
def test_bad_budget_is_refused_before_anything_runs(tmp_path, args, message):
    with pytest.raises(UserError, match=message):
        bench.main([*args, "--output-dir", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_output_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="--output-dir must be a folder"):
        bench.main(["--output-dir", str(tmp_path / "file")])
