"""Every log format TensorFlow's benchmark tool has printed since 2019 reads to one table.

The fixtures in fixtures/device_logs/ hold one profile (nine nodes) in each format; each
`<log>.md` (e.g. `x.txt.md`) says which TensorFlow version and formatter it models.
"""

import importlib.util
from pathlib import Path

from lab_bnn.errors import UserError

import pytest

from benchmarks.device_profile import COLUMNS, parse_device_profile, read_device_profile
from benchmarks.device_profile_layout import row_cells

LOGS = Path(__file__).parent / "fixtures" / "device_logs"
FORMATS = sorted(p for p in LOGS.iterdir() if p.suffix in (".txt", ".csv"))
BUILTIN_TYPES = ["CONV_2D", "LceQuantize", "LceBconv2d", "ADD", "LceQuantize", "LceBconv2d"]
BUILTIN_TYPES += ["MAX_POOL_2D", "MEAN", "FULLY_CONNECTED"]
XNNPACK_TYPES = ["Convolution (NHWC, F32) IGEMM", *BUILTIN_TYPES[1:3], "Add (ND, F32)"]
XNNPACK_TYPES += [*BUILTIN_TYPES[4:6], "Max Pooling (NHWC, F32)", "Global Average Pooling (NWC, F32)"]
XNNPACK_TYPES += ["Fully Connected (NC, F32) GEMM"]
AVG_MS = [0.398, 0.057, 0.876, 0.084, 0.055, 0.861, 0.041, 0.021, 0.012]


def _writer():
    spec = importlib.util.spec_from_file_location("write_device_logs", LOGS / "write_device_logs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_is_a_fixture_and_a_note_per_format_and_the_fixtures_are_current():
    written = _writer().formats()
    assert sorted(written) == [p.name for p in FORMATS]
    for path in FORMATS:
        assert path.read_text() == "\n".join(written[path.name]) + "\n", path.name
        assert Path(f"{path}.md").read_text().startswith(f"`{path.name}` models ")


@pytest.mark.parametrize("path", FORMATS, ids=lambda p: p.name)
def test_every_format_reads_to_the_same_table(path):
    df = read_device_profile(path)
    assert list(df.columns) == COLUMNS
    assert list(df["node_type"]) == (XNNPACK_TYPES if "xnnpack" in path.name else BUILTIN_TYPES)
    assert df["avg_ms"].tolist() == pytest.approx(AVG_MS, abs=5e-4)
    assert list(df["node_index"]) == list(range(9)) and (df["times_called"] == 1).all()
    assert df.loc[0, "name"] == "[quicknet/conv2d/Conv2D, quicknet/bn/FusedBatchNormV3]:0"
    assert df.loc[8, "name"] == "[StatefulPartitionedCall:0, logits]:8"
    assert df.attrs["op_total_avg_ms"] == pytest.approx(2.405)
    assert df.attrs["node_type_avg_ms"]["LceBconv2d"] == pytest.approx(1.737)
    if path.suffix == ".txt":  # the CSV file holds no whole-model timings
        assert (df.attrs["model_count"], df.attrs["model_avg_ms"]) == (203, pytest.approx(2.4516))


def test_a_profile_read_from_its_log_and_its_csv_is_one_table():
    log = read_device_profile(LOGS / "tf2.13_xnnpack_node_types.txt")
    csv = read_device_profile(LOGS / "tf2.13_xnnpack_node_types.csv")
    for column in ("node_type", "name", "node_index", "times_called"):
        assert log[column].tolist() == csv[column].tolist()
    assert log["avg_ms"].tolist() == pytest.approx(csv["avg_ms"].tolist(), abs=5e-4)


@pytest.mark.parametrize(
    "row, csv",
    [
        (
            "\t\t  Fully Connected (NC, F32) GEMM\t 0.014\t 0.012\t 0.499%\t100.000%\t 0.000\t 1\t[a, b]:8",
            False,
        ),
        ("    Fully Connected (NC, F32) GEMM  0.014  0.012  0.499% 100.000%  0.000  1  [a, b]:8", False),
        ("Fully Connected (NC, F32) GEMM, 0.014, 0.012, 0.499%, 100%, 0, 1, [a\t b]:8", True),
    ],
    ids=["tabs", "spaces", "csv"],
)
def test_a_row_splits_where_its_numbers_are(row, csv):
    columns = ["node_type", "first_ms", "avg_ms", "percent", "cdf_percent", "mem_kb", "times_called", "name"]
    cells = row_cells(columns, row, csv=csv)
    assert cells["node_type"] == "Fully Connected (NC, F32) GEMM"
    assert (cells["avg_ms"], cells["times_called"], cells["name"]) == ("0.012", "1", "[a, b]:8")


@pytest.mark.parametrize("path", FORMATS, ids=lambda p: p.name)
@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9, 0.98])
def test_a_truncated_log_of_any_format_is_one_user_error(path, keep):
    text = path.read_text()
    with pytest.raises(UserError, match=r"^cut[ :].*expected the output of lce_benchmark_model"):
        parse_device_profile(text[: int(len(text) * keep)], source="cut")


@pytest.mark.parametrize(
    "text, seen",
    [
        ("epoch,loss\n1,0.5\n", "'epoch,loss'"),
        ("\n\n" + "x" * 200 + "\n", "'" + "x" * 57 + "...'"),
        (
            "Profiling Info for Benchmark Initialization:\n" + (LOGS / "tf2.1_start_column.csv").read_text(),
            "'Profiling Info",
        ),
    ],
    ids=["foreign-csv", "long-line", "initialization-only"],
)
def test_a_foreign_file_names_what_was_expected_and_what_was_seen(text, seen):
    with pytest.raises(UserError) as error:
        parse_device_profile(text, source="f.txt")
    message = str(error.value)
    assert message.startswith("f.txt has no 'Operator-wise Profiling Info for Regular Benchmark Runs:' line")
    assert f"its first line is {seen}" in message and "expected the output of lce_benchmark_model" in message
