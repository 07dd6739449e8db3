"""Reading lce_benchmark_model's op profiles: the log, the CSV file, and nothing else."""

from pathlib import Path

from lab_bnn.errors import UserError

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.device_profile import COLUMNS, parse_device_profile, read_device_profile

FIXTURES = Path(__file__).parent / "fixtures"
LOG = FIXTURES / "lce_benchmark_small_bnn.txt"
CSV = FIXTURES / "lce_benchmark_small_bnn.csv"
SMALL_BNN_OPS = [
    "CONV_2D",
    "LceQuantize",
    "LceBconv2d",
    "ADD",
    "LceQuantize",
    "LceBconv2d",
    "ADD",
    "LceQuantize",
    "LceBMaxPool2d",
    "LceBconv2d",
    "LceQuantize",
    "LceBconv2d",
    "ADD",
    "MAX_POOL_2D",
    "MEAN",
    "FULLY_CONNECTED",
]


@pytest.mark.parametrize("path", [LOG, CSV], ids=["log", "csv"])
def test_run_order_table_of_the_regular_runs(path):
    df = read_device_profile(path)
    assert list(df.columns) == COLUMNS
    assert list(df["node_type"]) == SMALL_BNN_OPS  # not the initialization profile
    assert list(df["node_index"]) == list(range(16))
    assert (df["times_called"] == 1).all() and (df["avg_ms"] > 0).all()
    assert df["percent"].sum() == pytest.approx(100, abs=0.01)
    assert df["cdf_percent"].iloc[-1] == pytest.approx(100)
    assert df.loc[2, "name"] == "[small_bnn/batch_normalization_1/FusedBatchNormV3;s]:2"
    assert df.attrs["op_total_avg_ms"] == pytest.approx(df["avg_ms"].sum(), rel=1e-3)
    assert df.attrs["node_type_avg_ms"]["LceBconv2d"] == pytest.approx(0.495)
    assert df.attrs["source"] == str(path)


def test_log_and_csv_agree():
    log, csv = read_device_profile(LOG), read_device_profile(CSV)
    assert list(log["name"]) == list(csv["name"])
    assert log["avg_ms"].tolist() == pytest.approx(csv["avg_ms"].tolist(), abs=5e-4)


def test_whole_model_stats_from_the_log_in_ms():
    attrs = read_device_profile(LOG).attrs
    assert attrs["model_count"] == 377  # the regular runs, not the 188 warm-up runs
    assert (attrs["model_min_ms"], attrs["model_max_ms"]) == (0.783, 0.875)
    assert attrs["model_avg_ms"] == pytest.approx(0.812745)
    assert attrs["model_std_ms"] == pytest.approx(0.011)
    assert "model_avg_ms" not in read_device_profile(CSV).attrs  # the CSV file has no log


def test_older_tensorflow_layout_with_a_start_column(tmp_path):
    older = (
        "INFO: Operator-wise Profiling Info for Regular Benchmark Runs:\n"
        "============================== Run Order ==============================\n"
        "\t             [node type]\t          [start]\t  [first]\t [avg ms]\t     [%]"
        "\t  [cdf%]\t  [mem KB]\t[times called]\t[Name]\n"
        "\t              LceBconv2d\t            0.000\t    2.101\t    2.003\t 90.000%"
        "\t 90.000%\t     0.000\t        1\t[conv, second output]:0\n"
        "\t                     ADD\t            2.010\t    0.230\t    0.222\t 10.000%"
        "\t100.000%\t     0.000\t        1\t[add]:1\n\n"
        "============================== Top by Computation Time "
        "==============================\n"
        "\t             [node type]\t          [start]\t  [first]\t [avg ms]\t     [%]"
        "\t  [cdf%]\t  [mem KB]\t[times called]\t[Name]\n\n"
        "Number of nodes executed: 2\n"
        "============================== Summary by node type ==============================\n"
        "\t             [Node type]\t  [count]\t  [avg ms]\t    [avg %]\t    [cdf %]"
        "\t  [mem KB]\t[times called]\n"
        "\t              LceBconv2d\t        1\t     2.003\t    90.000%\t    90.000%"
        "\t     0.000\t        1\n"
        "\t                     ADD\t        1\t     0.222\t    10.000%\t   100.000%"
        "\t     0.000\t        1\n\n"
        "Timings (microseconds): count=5 curr=2225(all same)\n"
        "Memory (bytes): count=0\n2 nodes observed\n"
    )
    (tmp_path / "old.txt").write_text(older)
    df = read_device_profile(tmp_path / "old.txt")
    assert list(df["node_type"]) == ["LceBconv2d", "ADD"]
    assert df.loc[0, "name"] == "[conv, second output]:0" and df.loc[0, "first_ms"] == 2.101
    assert df.attrs["op_total_avg_ms"] == 2.225


@pytest.mark.parametrize(
    "content, why",
    [
        (b"", "is empty"),
        (b"\n  \n", "is empty"),
        (b"epoch,loss,accuracy\n1,0.52,0.81\n2,0.43,0.85\n", "has no 'Operator-wise Profiling Info"),
        (b"Lorem ipsum dolor sit amet.\n", "has no 'Operator-wise Profiling Info"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "is not text"),
    ],
    ids=["empty", "blank", "foreign-csv", "prose", "binary"],
)
def test_what_is_not_a_profile_is_one_value_error(tmp_path, content, why):
    path = tmp_path / "profile.txt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=rf"{path}.*{why}.*expected the output of lce_benchmark"):
        read_device_profile(path)


@pytest.mark.parametrize("source", [LOG, CSV], ids=["log", "csv"])
@pytest.mark.parametrize("keep", [0.2, 0.5, 0.8, 0.99])
def test_truncated_profile_is_one_value_error(tmp_path, source, keep):
    text = source.read_text()
    path = tmp_path / source.name
    path.write_text(text[: int(len(text) * keep)])
    with pytest.raises(UserError, match=rf"{path}.*expected the output of lce_benchmark_model"):
        read_device_profile(path)


@pytest.mark.parametrize(
    "where,problem", [("", "empty"), ("missing.txt", "missing"), (".", "a folder, not a file")]
)
def test_a_path_that_is_no_file_is_one_user_error(tmp_path, monkeypatch, where, problem):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        UserError,
        match=rf"^path={where!r} is {problem}; give a file holding "
        r"the output of lce_benchmark_model",
    ):
        read_device_profile(where)


def _mutations():
    """Edits of a fixture: cut it, delete, insert or replace a span, repeat or drop a line."""
    position = st.floats(0, 1)
    junk = st.text(st.sampled_from("0123456789.%-,\t\n =[]:abcXYZ"), max_size=12)
    return st.lists(
        st.one_of(
            st.tuples(st.just("cut"), position),
            st.tuples(st.just("delete"), position, st.integers(1, 40)),
            st.tuples(st.just("insert"), position, junk),
            st.tuples(st.just("replace"), position, junk),
            st.tuples(st.just("repeat line"), position),
            st.tuples(st.just("drop line"), position),
        ),
        min_size=1,
        max_size=4,
    )


def _mutate(text, edits):
    for edit in edits:
        at = int(edit[1] * len(text))
        if edit[0] == "cut":
            text = text[:at]
        elif edit[0] == "delete":
            text = text[:at] + text[at + edit[2] :]
        elif edit[0] == "insert":
            text = text[:at] + edit[2] + text[at:]
        elif edit[0] == "replace":
            text = text[:at] + edit[2] + text[at + len(edit[2]) :]
        else:
            lines = text.split("\n")
            i = min(int(edit[1] * len(lines)), len(lines) - 1)
            lines[i : i + 1] = [lines[i]] * 2 if edit[0] == "repeat line" else []
            text = "\n".join(lines)
    return text


LOGCAT = "12-01 10:00:00.000  4821  4821 I tflite  : "


def _shapes():
    """How logs of other TensorFlow versions, loggers and terminals lay out the report."""
    return st.fixed_dictionaries(
        {
            "prefix": st.sampled_from(["", "INFO: ", LOGCAT]),
            "tabs": st.integers(0, 2),
            "spaces": st.booleans(),
            "headerless": st.booleans(),
            "start": st.booleans(),
        }
    )


def _reshape(text, csv, prefix, tabs, spaces, headerless, start):
    """The fixture as another version would print it: a line prefix on every line, more
    leading tabs, tabs expanded to spaces, no 'Operator-wise' title (TF 2.1: the Run Order
    right after 'Average inference timings'), a [start] column."""
    lines = [line.removeprefix("INFO: ") for line in text.split("\n")]
    if headerless:
        regular = lines.index("Operator-wise Profiling Info for Regular Benchmark Runs:")
        init = lines.index("Profiling Info for Benchmark Initialization:")
        average = [] if csv else ["Average inference timings in us: Warmup: 845.6, no stats: 812.7"]
        lines = lines[:init] + average + lines[regular + 1 :]
    op_table, shaped = False, []
    for line in lines:
        header = "[first]" in line or ", first," in line
        op_table = bool(line.strip()) and (op_table or header)
        if start and op_table:
            if csv:
                kind, rest = line.split(", ", 1)
                line = f"{kind}, {'start' if header else '0.5'}, {rest}"
            else:
                cells = line.split("\t")
                cells.insert(2, ("[start]" if header else "0.500").rjust(17))
                line = "\t".join(cells)
        if line.startswith("\t"):
            line = "\t" * tabs + line
        line = prefix + line if line else line
        shaped.append(line.expandtabs(8) if spaces and not csv else line)
    return "\n".join(shaped)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(fixture=st.sampled_from([LOG, CSV]), shape=_shapes())
def test_every_layout_of_the_same_profile_reads_to_the_same_table(fixture, shape):
    df = parse_device_profile(_reshape(fixture.read_text(), fixture == CSV, **shape))
    expected = read_device_profile(fixture)
    for column in ("node_type", "name", "times_called", "node_index"):
        assert df[column].tolist() == expected[column].tolist()
    assert df["avg_ms"].tolist() == expected["avg_ms"].tolist()
    assert df.attrs.get("model_count") == expected.attrs.get("model_count")


@settings(
    max_examples=2000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(fixture=st.sampled_from([LOG, CSV]), shape=_shapes(), edits=_mutations())
def test_mutated_profiles_parse_or_raise_value_error(fixture, shape, edits):
    text = _mutate(_reshape(fixture.read_text(), fixture == CSV, **shape), edits)
    try:
        df = parse_device_profile(text, source="mutated")
    except UserError as error:
        assert "mutated" in str(error)
    else:
        assert list(df.columns) == COLUMNS
