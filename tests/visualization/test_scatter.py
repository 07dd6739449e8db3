import pytest

from visualization.scatter import scatter_chart


def test_accuracy_against_latency_sized_by_megabytes_coloured_by_model(scatter_table):
    spec = scatter_chart(scatter_table, accuracy_title="Top-1 [%]").to_dict()
    encoding = spec["encoding"]
    assert spec["mark"]["type"] == "circle"
    assert (encoding["x"]["field"], encoding["y"]["field"]) == ("latency_ms", "accuracy")
    assert encoding["x"]["scale"]["zero"] is False and encoding["y"]["scale"]["zero"] is False
    assert encoding["y"]["title"] == "Top-1 [%]"
    assert encoding["size"]["field"] == "size_mb" and encoding["color"]["field"] == "model"
    tooltip_fields = [t["field"] for t in encoding["tooltip"]]
    assert tooltip_fields == ["model", "accuracy", "latency_ms", "size_mb", "size_bytes"]
    values = spec["datasets"][spec["data"]["name"]]
    assert [v["size_mb"] for v in values] == pytest.approx([4.23, 4.62, 4.40])


def test_zoom_and_pan_are_bound_to_the_scales(scatter_table):
    params = scatter_chart(scatter_table).to_dict()["params"]
    assert any(p.get("bind") == "scales" and p["select"]["type"] == "interval" for p in params)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.iloc[0:0], r"table is empty \(0 rows"),
        (
            lambda t: t.drop(columns=["size_bytes"]).rename(columns={"latency_ms": "latency"}),
            r"table is missing column\(s\) 'latency_ms', 'size_bytes'; "
            r"got columns \['model', 'accuracy', 'latency'\]",
        ),
        (
            lambda t: t.assign(latency_ms=[41.4, -60.6, 30.2]),
            r"column 'latency_ms' has a negative value, -60.6 at index 1",
        ),
        (
            lambda t: t.assign(size_bytes=[1, -2, -3]),
            r"column 'size_bytes' has a negative value, -2.0 at index 1 \(2 such",
        ),
        (
            lambda t: t.assign(accuracy=["56%", "57%", "55%"]),
            r"column 'accuracy' has dtype .*allowed: number >= 0",
        ),
    ],
)
def test_bad_tables_are_refused_naming_what_was_received(scatter_table, change, message):
    with pytest.raises(ValueError, match=r"^scatter_chart: " + message):
        scatter_chart(change(scatter_table))


def test_extra_columns_are_ignored(scatter_table):
    spec = scatter_chart(scatter_table.assign(threads=1, host="x86")).to_dict()
    assert "host" not in spec["datasets"][spec["data"]["name"]][0]
