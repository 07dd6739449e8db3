"""`lqz Charts`: op-profile and accuracy/latency charts from tidy CSV files."""

from pathlib import Path
from typing import Sequence

import pandas as pd
from zookeeper import Field, task

from converter.output_files import next_free_path
from visualization.html import save_report
from visualization.op_profile import op_profile_chart
from visualization.scatter import scatter_chart


def read_csvs(paths: Sequence[str], what: str) -> pd.DataFrame:
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"{what}: no such file {missing[0]!r}")
    return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)


@task
class Charts:
    """One offline HTML page: stacked per-op-type latency bars from `profiles` (CSV
    files of `lqz Profile` / `lqz ImportProfile`: columns model, op_type, ms) and an
    accuracy/latency/size scatter from `results` (CSV: model, accuracy, latency_ms,
    size_bytes)."""

    profiles: str = Field("")  # comma-separated CSV paths
    results: str = Field("")
    output: str = Field("runs/charts.html")

    def run(self):
        if not self.profiles and not self.results:
            raise ValueError("nothing to draw: give profiles=a.csv,b.csv and/or results=r.csv")
        sections = {}
        if self.profiles:
            sections["Latency per op type"] = op_profile_chart(
                read_csvs(self.profiles.split(","), "profiles"))
        if self.results:
            sections["Accuracy vs latency"] = scatter_chart(read_csvs([self.results], "results"))
        path = save_report(next_free_path(Path(self.output)), "lab-bnn charts", sections)
        print(f"charts written to {path}")
