"""Pages of a leaderboard CSV (one row per binarizer): the table, the accuracy/latency
scatter, and theoretical against measured speed-up over the float model (BiBench's
finding that deployed cost departs from theoretical cost, per model)."""

from typing import Dict, List, Tuple

import altair as alt
import pandas as pd

from visualization.html import Section
from visualization.scatter import scatter_chart
from visualization.tables import NON_NEGATIVE, TEXT, validate_table

# What the page's table shows, in the CSV's own units, so the two can be compared.
TABLE_COLUMNS = [
    "binarizer",
    "title",
    "status",
    "accuracy",
    "lce_accuracy",
    "points_below_float",
    "size_bytes",
    "binary_mac_fraction",
    "theoretical_speedup_vs_float",
    "latency_ms",
    "latency_vs_float",
    "kernel",
    "conversion",
]
DECIMALS = 4


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The CSV's rows, best accuracy first, numbers rounded to DECIMALS places."""
    shown = table.reindex(columns=TABLE_COLUMNS).sort_values(
        "accuracy", ascending=False, na_position="last", kind="stable"
    )
    numeric = shown.select_dtypes("number").columns
    shown[numeric] = shown[numeric].round(DECIMALS)
    return shown.reset_index(drop=True)


def measured_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Rows with an accuracy, a latency and a size (converted and timed)."""
    return table.dropna(subset=["accuracy", "latency_ms", "size_bytes"])


def speedup_chart(table: pd.DataFrame) -> alt.Chart:
    """Theoretical speed-up over float (OPs = float MACs + binary MACs / 64) against
    the speed-up measured on this host; the diagonal is where they would agree."""
    validate_table(
        table,
        {
            "title": TEXT,
            "theoretical_speedup_vs_float": NON_NEGATIVE,
            "measured_speedup_vs_float": NON_NEGATIVE,
        },
        chart="speedup_chart",
    )
    points = table[["title", "theoretical_speedup_vs_float", "measured_speedup_vs_float"]]
    titles = list(dict.fromkeys(points.title))
    values = points.iloc[:, 1:]
    lower, upper = float(values.min().min()) / 1.2, float(values.max().max()) * 1.2
    diagonal = (
        alt.Chart(pd.DataFrame({"x": [lower, upper], "y": [lower, upper]}))
        .mark_line(strokeDash=[4, 4], color="grey")
        .encode(x="x:Q", y="y:Q")
    )
    marks = (
        alt.Chart(points)
        .mark_circle(size=120, opacity=0.85)
        .encode(
            x=alt.X(
                "theoretical_speedup_vs_float:Q",
                title="Theoretical speed-up over float (OPs)",
                scale=alt.Scale(type="log"),
            ),
            y=alt.Y(
                "measured_speedup_vs_float:Q",
                title="Measured speed-up over float (host)",
                scale=alt.Scale(type="log"),
            ),
            color=alt.Color(
                "title:N",
                title="Model",
                sort=titles,  # the scatter's colours
                scale=alt.Scale(scheme="tableau10" if len(titles) <= 10 else "tableau20"),
            ),
            tooltip=[
                "title:N",
                alt.Tooltip("theoretical_speedup_vs_float:Q", format=".2f"),
                alt.Tooltip("measured_speedup_vs_float:Q", format=".2f"),
            ],
        )
    )
    return (diagonal + marks).properties(width=500, height=350, title="Theoretical vs measured speed-up")


def accuracy_latency_chart(table: pd.DataFrame, accuracy_title: str) -> alt.Chart:
    points = measured_rows(table).assign(model=lambda t: t.title, accuracy=lambda t: 100 * t.accuracy)
    return scatter_chart(points, accuracy_title=accuracy_title)


def measurement_note(table: pd.DataFrame) -> str:
    """Which host, kernel path and budget produced the numbers."""
    done = table[table.status == "ok"]
    if done.empty:
        return "No row finished."
    first = done.iloc[0]
    kernels = ", ".join(sorted(set(done.kernel.dropna())))
    return (
        f"{first.model} on {first.dataset} ({int(first.test_examples)} test images), "
        f"{int(first.epochs)} epochs of batch {int(first.batch_size)}, learning rate "
        f"{first.learning_rate:g}, seed {int(first.seed)}. Latency: median of LCE's "
        f"interpreter on {first.host}, {int(first.threads)} thread(s), kernel path "
        f"{kernels} — host latency, not device latency."
    )


def leaderboard_sections(table: pd.DataFrame, dataset_title: str) -> List[Tuple[str, Section]]:
    """The leaderboard page: note, table, and the two charts when rows were measured."""
    sections: List[Tuple[str, Section]] = [
        ("How it was measured", measurement_note(table)),
        ("Leaderboard", display_table(table)),
    ]
    measured = measured_rows(table)
    if not measured.empty:
        sections.append(
            ("Accuracy vs latency", accuracy_latency_chart(table, f"{dataset_title} test accuracy [%]"))
        )
        speedups = measured.dropna(subset=["theoretical_speedup_vs_float", "measured_speedup_vs_float"])
        if not speedups.empty:
            sections.append(("Theoretical vs measured speed-up", speedup_chart(speedups)))
    return sections


def op_profile_table(profiles: Dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per-op profiles (benchmarks' op_profile.csv) of several models as one tidy
    table (model, op_type, ms) for `op_profile_chart`."""
    return pd.concat(
        [
            pd.DataFrame({"model": name, "op_type": p.op_type, "ms": p.median_ms})
            for name, p in profiles.items()
        ],
        ignore_index=True,
    )
