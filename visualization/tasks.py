"""`lqz Charts`: op-profile and accuracy/latency charts from tidy CSV files."""

from pathlib import Path
from typing import Sequence

import pandas as pd
from zookeeper import Field

from converter.output_files import next_free_path
from visualization.html import save_report
from visualization.op_profile import op_profile_chart
from visualization.scatter import scatter_chart
from zoo.task_help import task


def read_csvs(paths: Sequence[str], what: str) -> pd.DataFrame:
    """The CSV files concatenated; FileNotFoundError or ValueError naming a bad one."""
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"{what}: no such file {missing[0]!r}")
    tables = []
    for path in paths:
        try:
            tables.append(pd.read_csv(path))
        except ValueError as error:  # empty, binary or ragged (pandas errors are ValueErrors)
            raise ValueError(f"{what}: {path!r} is not a CSV table ({error})") from error
    return pd.concat(tables, ignore_index=True)


@task
class Charts:
    """One offline HTML page: stacked per-op-type latency bars from `profiles` (CSV
    files of `lqz Profile` / `lqz ImportProfile`: columns model, op_type, ms) and an
    accuracy/latency/size scatter from `results` (CSV: model, accuracy, latency_ms,
    size_bytes)."""

    field_help = {
        "profiles": "comma-separated CSV files with columns model, op_type, ms",
        "results": "a CSV file with columns model, accuracy, latency_ms, size_bytes",
        "output": "the HTML page to write; a taken name gets -2, -3, ...",
    }
    profiles: str = Field("")
    results: str = Field("")
    output: str = Field("runs/charts.html")

    def run(self):
        # Imported here: the chart modules stay free of lab_bnn (and so of TensorFlow).
        from lab_bnn.errors import UserError

        if not self.profiles and not self.results:
            raise UserError("nothing to draw: give profiles=a.csv,b.csv and/or results=r.csv")
        try:
            sections = self.sections()
        except (FileNotFoundError, ValueError) as error:  # a missing file or unusable table
            raise UserError(str(error)) from error
        path = save_report(next_free_path(Path(self.output)), "lab-bnn charts", sections)
        print(f"charts written to {path}")

    def sections(self):
        sections = {}
        if self.profiles:
            sections["Latency per op type"] = op_profile_chart(
                read_csvs(self.profiles.split(","), "profiles")
            )
        if self.results:
            sections["Accuracy vs latency"] = scatter_chart(read_csvs([self.results], "results"))
        return sections
