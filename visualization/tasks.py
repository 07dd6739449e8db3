"""`lqz Charts`: op-profile and accuracy/latency charts from tidy CSV files."""

import glob
from pathlib import Path
from typing import List, Sequence

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


PROFILE_SUFFIXES = (".txt", ".log", ".csv")


def profile_paths(spec: str) -> List[Path]:
    """The files named by `spec`: a comma list of files, folders (their .txt, .log and
    .csv files) and glob patterns, in order, each once; FileNotFoundError naming an item
    that names no file."""
    paths: List[Path] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        if Path(item).is_dir():
            found = sorted(
                p for p in Path(item).iterdir() if p.is_file() and p.suffix.lower() in PROFILE_SUFFIXES
            )
            found = [p for p in found if not p.name.startswith(".")]
            what = f"folder {item!r} holds no {', '.join(PROFILE_SUFFIXES)} file"
        elif glob.has_magic(item):
            found = sorted(Path(p) for p in glob.glob(item) if Path(p).is_file())
            what = f"pattern {item!r} matches no file"
        else:
            found, what = [Path(item)] * Path(item).is_file(), f"no such file {item!r}"
        if not found:
            raise FileNotFoundError(f"profiles: {what}")
        paths += [p for p in found if p not in paths]
    return paths


def read_profile(path: Path, label: str) -> pd.DataFrame:
    """One model's per-op table (model, op_type, ms) from an imported CSV (`lqz Profile`,
    `lqz ImportProfile`: its `model` column, unless `label` is given) or from a raw
    lce_benchmark_model log or --profiling_output_csv_file (labelled `label` or the file
    name's stem). Nothing is written."""
    try:
        columns = set(pd.read_csv(path, nrows=0).columns)
    except (ValueError, UnicodeDecodeError):  # a log or a raw CSV pandas cannot tokenize
        columns = set()
    if columns & {"model", "op_type", "ms"}:  # a tidy table; the chart checks its columns
        table = read_csvs([str(path)], "profiles")
        return table.assign(model=label) if label else table
    # Imported here: only a raw profile needs benchmarks (and so lab_bnn).
    from benchmarks.device_profile import read_device_profile

    raw = read_device_profile(path)
    return pd.DataFrame({"model": label or path.stem, "op_type": raw["node_type"], "ms": raw["avg_ms"]})


@task
class Charts:
    """One offline HTML page: stacked per-op-type latency bars from `profiles` (CSV
    files of `lqz Profile` / `lqz ImportProfile`: columns model, op_type, ms; or raw
    lce_benchmark_model logs and CSVs, one model per file, named after the file) and an
    accuracy/latency/size scatter from `results` (CSV: model, accuracy, latency_ms,
    size_bytes). Nothing is written beside the inputs."""

    field_help = {
        "profiles": "comma-separated files, folders or globs (logs/*.txt): CSVs with "
        "columns model, op_type, ms, or raw lce_benchmark_model profiles (text or CSV)",
        "labels": "comma-separated model names, one per profile file in order; '' = "
        "an imported CSV's model column, a raw profile's file name",
        "results": "a CSV file with columns model, accuracy, latency_ms, size_bytes",
        "output": "the HTML page to write; a taken name gets -2, -3, ...",
    }
    profiles: str = Field("")
    labels: str = Field("")
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
            sections["Latency per op type"] = op_profile_chart(self.profile_table())
        if self.results:
            sections["Accuracy vs latency"] = scatter_chart(read_csvs([self.results], "results"))
        return sections

    def profile_table(self) -> pd.DataFrame:
        from lab_bnn.errors import UserError

        paths = profile_paths(self.profiles)
        labels = [label.strip() for label in self.labels.split(",")] if self.labels else []
        if labels and len(labels) != len(paths):
            raise UserError(
                f"labels= has {len(labels)} names for {len(paths)} profile files "
                f"({', '.join(p.name for p in paths)}); give one name per file or labels=''"
            )
        return pd.concat(
            [read_profile(path, label) for path, label in zip(paths, labels or [""] * len(paths))],
            ignore_index=True,
        )
