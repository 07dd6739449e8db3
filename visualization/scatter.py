"""The accuracy/latency trade-off: one point per measured model, sized by its file size."""

from typing import Optional

import altair as alt
import pandas as pd

from visualization.tables import NON_NEGATIVE, TEXT, validate_table

COLUMNS = {"model": TEXT, "accuracy": NON_NEGATIVE, "latency_ms": NON_NEGATIVE, "size_bytes": NON_NEGATIVE}
BYTES_PER_MB = 1_000_000


def scatter_chart(
    table: pd.DataFrame,
    *,
    accuracy_title: str = "Accuracy",
    title: Optional[str] = "Accuracy vs latency",
    width: int = 500,
    height: int = 350,
) -> alt.Chart:
    """Accuracy against latency, point area = model size, colour = model; zoom and pan.

    Axes do not start at zero, so close models stay apart (the LAB paper's ablation
    chart of Table 9). Scroll to zoom, drag to pan, double-click to reset.

    Args:
        table: tidy table with one row per model (several rows per model are drawn as
            several points of one colour): `model` (text), `accuracy` (>= 0, in the
            table's own unit: fraction or percent, name it in `accuracy_title`),
            `latency_ms` (>= 0) and `size_bytes` (>= 0, e.g. the .tflite file's size).
            Other columns are ignored.
        accuracy_title: y axis title, e.g. "ImageNet top-1 [%]".
        title: chart title, or None for none.
        width, height: plot size in pixels.

    Returns:
        An interactive altair Chart; tooltips give model, accuracy, latency and size
        (MB = 10^6 bytes, and bytes); each point's aria-label (what screen readers say)
        is "<model>: <accuracy_title> <accuracy>, <latency> ms, <size> MB".

    Raises:
        TypeError: `table` is not a DataFrame.
        ValueError: `table` is empty, lacks a column, or has a missing, non-numeric or
            negative accuracy, latency or size.

    Example:
        >>> table = pd.DataFrame({"model": ["BiReal", "BiReal+LAB"], "accuracy": [56.4, 57.8],
        ...                       "latency_ms": [41.4, 60.6], "size_bytes": [4_230_000, 4_620_000]})
        >>> save_html(scatter_chart(table, accuracy_title="Top-1 [%]"), "tradeoff.html")

    Paper: Falkena, Jamali-Rad, van Gemert, "LAB: Learnable Activation Binarizer for
    Binary Neural Networks", WACV 2023.
    """
    validate_table(table, COLUMNS, chart="scatter_chart")
    points = table[list(COLUMNS)].astype(
        {"model": str, "accuracy": float, "latency_ms": float, "size_bytes": float}
    )
    points["size_mb"] = points["size_bytes"] / BYTES_PER_MB
    described = points[["model", "accuracy", "latency_ms", "size_mb"]].itertuples(index=False)
    points["description"] = [
        f"{m}: {accuracy_title} {a:g}, {ms:.2f} ms, {mb:.2f} MB" for m, a, ms, mb in described
    ]
    model_order = list(dict.fromkeys(points["model"]))

    chart = (
        alt.Chart(points)
        .mark_circle(opacity=0.8, stroke="black", strokeWidth=0.5)
        .encode(
            x=alt.X("latency_ms:Q", title="Latency [ms]", scale=alt.Scale(zero=False, padding=20)),
            y=alt.Y("accuracy:Q", title=accuracy_title, scale=alt.Scale(zero=False, padding=20)),
            color=alt.Color(
                "model:N",
                title="Model",
                sort=model_order,
                scale=alt.Scale(scheme="tableau10" if len(model_order) <= 10 else "tableau20"),
            ),
            size=alt.Size("size_mb:Q", title="Size [MB]", scale=alt.Scale(zero=False, range=[60, 600])),
            description=alt.Description("description:N"),
            tooltip=[
                alt.Tooltip("model:N", title="Model"),
                alt.Tooltip("accuracy:Q", title=accuracy_title),
                alt.Tooltip("latency_ms:Q", title="Latency [ms]", format=".2f"),
                alt.Tooltip("size_mb:Q", title="Size [MB]", format=".2f"),
                alt.Tooltip("size_bytes:Q", title="Size [bytes]", format=",.0f"),
            ],
        )
        .properties(width=width, height=height)
    )
    chart = chart.properties(title=title) if title else chart
    return chart.interactive()
