"""Where each model's inference time goes: one stacked bar per model, one segment per op type."""

from typing import Literal, Optional

import altair as alt
import pandas as pd

from visualization.tables import NON_NEGATIVE, TEXT, validate_table

COLUMNS = {"model": TEXT, "op_type": TEXT, "ms": NON_NEGATIVE}
ORIENTS = ("horizontal", "vertical")


def op_profile_chart(
    table: pd.DataFrame,
    top_n: int = 8,
    *,
    orient: Literal["horizontal", "vertical"] = "horizontal",
    other_label: str = "other",
    title: Optional[str] = "Latency per op type",
    length: int = 600,
) -> alt.Chart:
    """Stacked bars of latency per op type, one bar per model.

    The op types with the largest total time over all models keep their own colour;
    the rest are summed into one `other_label` segment, so a chart of many models stays
    readable. Segments stack largest first, in legend order, and models keep the order
    in which they first appear in `table`. This is the operator profile of the LAB
    paper's Fig. 6, drawn from a tidy table instead of benchmark logs.

    Args:
        table: tidy table with one row per op (or per op type) and model:
            `model` (text), `op_type` (text, e.g. "CONV_2D", "LceBconv2d"),
            `ms` (latency in milliseconds, >= 0). Rows with the same model and op type
            are summed; other columns are ignored.
        top_n: how many op types (ranked by total ms over all models) to show by name.
        orient: "horizontal" (models on the y axis) or "vertical" (models on the x axis).
        other_label: name of the segment that sums the op types outside the top_n.
        title: chart title, or None for none.
        length: length in pixels of the latency axis; each model's bar gets 40 pixels.

    Returns:
        An altair Chart; tooltips give model, op type, ms and share of the model's total.

    Raises:
        TypeError: `table` is not a DataFrame.
        ValueError: `table` is empty, lacks a column, has a missing or negative `ms`,
            or `top_n` / `orient` is not allowed.

    Example:
        >>> table = pd.DataFrame({"model": ["BiReal", "BiReal", "BiReal+LAB"],
        ...                       "op_type": ["LceBconv2d", "CONV_2D", "LceBconv2d"],
        ...                       "ms": [10.0, 2.5, 11.0]})
        >>> save_html(op_profile_chart(table, top_n=5), "op_profile.html")

    Paper: Falkena, Jamali-Rad, van Gemert, "LAB: Learnable Activation Binarizer for
    Binary Neural Networks", WACV 2023.
    """
    validate_table(table, COLUMNS, chart="op_profile_chart")
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ValueError(f"op_profile_chart: top_n={top_n!r}; allowed: an integer >= 1")
    if orient not in ORIENTS:
        raise ValueError(f"op_profile_chart: orient={orient!r}; allowed: {', '.join(ORIENTS)}")

    segments = op_profile_segments(table, top_n, other_label)
    op_order = list(dict.fromkeys(segments.sort_values("rank")["op_type"]))
    model_order = list(dict.fromkeys(table["model"].astype(str)))

    latency = alt.X("ms:Q", title="Latency [ms]", stack="zero")
    model = alt.Y("model:N", title="Model", sort=model_order)
    if orient == "vertical":
        latency = alt.Y("ms:Q", title="Latency [ms]", stack="zero")
        model = alt.X("model:N", title="Model", sort=model_order)
    chart = (
        alt.Chart(segments)
        .mark_bar()
        .encode(
            latency,
            model,
            color=alt.Color(
                "op_type:N",
                title="Op type",
                sort=op_order,
                scale=alt.Scale(domain=op_order, scheme="tableau10" if len(op_order) <= 10 else "tableau20"),
                legend=alt.Legend(orient="bottom", columns=min(len(op_order), 5)),
            ),
            order=alt.Order("rank:Q", sort="ascending"),
            description=alt.Description("description:N"),
            tooltip=[
                alt.Tooltip("model:N", title="Model"),
                alt.Tooltip("op_type:N", title="Op type"),
                alt.Tooltip("ms:Q", title="Latency [ms]", format=".3f"),
                alt.Tooltip("share:Q", title="Share of model", format=".1%"),
            ],
        )
    )
    if orient == "horizontal":
        chart = chart.properties(width=length, height=alt.Step(40))
    else:
        chart = chart.properties(width=alt.Step(40), height=length)
    return chart.properties(title=title) if title else chart


def op_profile_segments(table: pd.DataFrame, top_n: int, other_label: str = "other") -> pd.DataFrame:
    """The bars' data: ms per (model, op type) with op types outside the top_n summed.

    Returns columns model, op_type, ms, share (of that model's total; 0 for a model whose
    total is 0), rank (0 for the op type with the most total time; other_label last) and
    description (one line per segment, the text screen readers read for it).
    """
    rows = table[list(COLUMNS)].astype({"model": str, "op_type": str, "ms": float})
    totals = rows.groupby("op_type")["ms"].sum()
    ranked = sorted(totals.index, key=lambda op: (-totals[op], op))
    kept = [op for op in ranked[:top_n] if op != other_label]
    rows["op_type"] = rows["op_type"].where(rows["op_type"].isin(kept), other_label)

    segments = rows.groupby(["model", "op_type"], sort=False, as_index=False)["ms"].sum()
    model_total = segments.groupby("model")["ms"].transform("sum")
    segments["share"] = (segments["ms"] / model_total.where(model_total > 0)).fillna(0.0)
    rank = {op: i for i, op in enumerate(kept)}
    segments["rank"] = segments["op_type"].map(lambda op: rank.get(op, len(kept)))
    segments["description"] = [
        f"{m}: {op} {ms:.3f} ms ({share:.1%})"
        for m, op, ms, share in segments[["model", "op_type", "ms", "share"]].itertuples(index=False)
    ]
    return segments
