import altair as alt
import pandas as pd
import pytest

from visualization.op_profile import op_profile_chart, op_profile_segments


def segment(segments, model, op_type):
    row = segments[(segments["model"] == model) & (segments["op_type"] == op_type)]
    assert len(row) == 1, f"{model}/{op_type}: {len(row)} segments"
    return row.iloc[0]


def test_op_types_outside_the_top_n_are_summed_as_other(op_table):
    segments = op_profile_segments(op_table, top_n=3)
    ranked = ["LceBconv2d", "CONV_2D", "DEPTHWISE_CONV_2D", "other"]  # totals 28, 6, 3, 3.7
    assert list(segments.sort_values("rank")["op_type"].drop_duplicates()) == ranked
    assert segment(segments, "BiReal", "LceBconv2d")["ms"] == pytest.approx(10.0)  # two rows summed
    assert segment(segments, "BiReal", "other")["ms"] == pytest.approx(1.5)
    assert segment(segments, "BiReal+LAB", "other")["ms"] == pytest.approx(1.8)
    assert segment(segments, "QuickNet", "other")["ms"] == pytest.approx(0.4)
    assert len(segments) == 3 + 4 + 3
    assert segments.groupby("model")["ms"].sum().to_dict() == pytest.approx(
        op_table.groupby("model")["ms"].sum().to_dict()
    )


def test_share_is_of_the_models_total(op_table):
    segments = op_profile_segments(op_table, top_n=3)
    assert segment(segments, "BiReal", "LceBconv2d")["share"] == pytest.approx(10.0 / 14.0)
    assert segments.groupby("model")["share"].sum().to_list() == pytest.approx([1.0, 1.0, 1.0])


def test_a_top_n_covering_every_op_type_has_no_other(op_table):
    segments = op_profile_segments(op_table, top_n=50)
    assert "other" not in set(segments["op_type"])
    assert len(segments) == len(op_table.drop_duplicates(["model", "op_type"]))


def test_a_model_taking_no_time_has_zero_shares():
    table = pd.DataFrame({"model": ["idle", "busy"], "op_type": ["ADD", "ADD"], "ms": [0.0, 1.0]})
    assert op_profile_segments(table, top_n=8)["share"].to_list() == [0.0, 1.0]


@pytest.mark.parametrize(
    "orient, latency_channel, model_channel", [("horizontal", "x", "y"), ("vertical", "y", "x")]
)
def test_chart_stacks_latency_per_model_in_table_order(op_table, orient, latency_channel, model_channel):
    spec = op_profile_chart(op_table, top_n=3, orient=orient).to_dict()
    encoding = spec["encoding"]
    assert spec["mark"]["type"] == "bar"
    assert encoding[latency_channel]["field"] == "ms" and encoding[latency_channel]["stack"] == "zero"
    assert encoding[model_channel]["field"] == "model"
    assert encoding[model_channel]["sort"] == ["BiReal", "BiReal+LAB", "QuickNet"]
    assert encoding["color"]["scale"]["domain"] == ["LceBconv2d", "CONV_2D", "DEPTHWISE_CONV_2D", "other"]
    assert [t["field"] for t in encoding["tooltip"]] == ["model", "op_type", "ms", "share"]


def test_chart_is_an_altair_chart_with_a_title(op_table):
    chart = op_profile_chart(op_table, title="Ablation")
    assert isinstance(chart, alt.Chart)
    assert chart.to_dict()["title"] == "Ablation"


@pytest.mark.parametrize(
    "table, message",
    [
        (
            pd.DataFrame({"model": [], "op_type": [], "ms": []}),
            r"table is empty \(0 rows.*expected at least one row",
        ),
        (
            pd.DataFrame({"model": ["a"], "op": ["ADD"], "time": [1.0]}),
            r"table is missing column\(s\) 'op_type', 'ms'; got columns \['model', 'op', 'time'\], "
            r"expected model \(text\)",
        ),
        (
            pd.DataFrame({"model": ["a", "b"], "op_type": ["ADD", "ADD"], "ms": [1.0, -0.5]}),
            r"column 'ms' has a negative value, -0.5 at index 1 .*allowed: number >= 0",
        ),
        (
            pd.DataFrame({"model": ["a"], "op_type": ["ADD"], "ms": [float("nan")]}),
            r"column 'ms' has 1 missing value\(s\) \(first at index 0\); allowed: number >= 0",
        ),
        (
            pd.DataFrame({"model": ["a"], "op_type": ["ADD"], "ms": [float("inf")]}),
            r"column 'ms' has a non-finite value, inf",
        ),
        (
            pd.DataFrame({"model": ["a"], "op_type": ["ADD"], "ms": ["fast"]}),
            r"column 'ms' has dtype .*first value 'fast'.*allowed: number >= 0",
        ),
        (
            pd.DataFrame({"model": [None], "op_type": ["ADD"], "ms": [1.0]}),
            r"column 'model' has 1 missing value\(s\).*allowed: text",
        ),
    ],
)
def test_bad_tables_are_refused_naming_what_was_received(table, message):
    with pytest.raises(ValueError, match=r"^op_profile_chart: " + message):
        op_profile_chart(table)


def test_a_non_dataframe_is_refused():
    with pytest.raises(TypeError, match=r"expected a pandas.DataFrame with columns model \(text\).*got list"):
        op_profile_chart([{"model": "a", "op_type": "ADD", "ms": 1.0}])


@pytest.mark.parametrize("top_n", [0, -1, 2.5, True, "8"])
def test_top_n_must_be_a_positive_integer(op_table, top_n):
    with pytest.raises(ValueError, match=rf"top_n={top_n!r}; allowed: an integer >= 1"):
        op_profile_chart(op_table, top_n=top_n)


def test_orient_must_be_horizontal_or_vertical(op_table):
    with pytest.raises(ValueError, match=r"orient='sideways'; allowed: horizontal, vertical"):
        op_profile_chart(op_table, orient="sideways")
