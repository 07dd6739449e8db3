"""Per-operator profiles measured on a device by LCE's `lce_benchmark_model`, as tidy tables.

`lce_benchmark_model --graph=model.tflite --enable_op_profiling=true` is TFLite's benchmark
tool with LCE's ops; it logs the whole-model timings and, under "Operator-wise Profiling
Info for Regular Benchmark Runs:" (before TF 2.3: right after "Average inference
timings"), TFLite's profile summary (formatted by TensorFlow's StatsCalculator): "Run
Order", "Top by Computation Time" and "Summary by node type" tables, "Number of nodes
executed: N", a "Timings (microseconds): count=..." line and "N nodes observed". Cells
are right-aligned after tabs ("[node type]", "[first]", "[avg ms]", "[%]", "[cdf%]",
"[mem KB]", "[times called]", "[Name]"; older versions add "[start]", read and dropped);
logs pasted from terminals, loggers (`INFO: `, logcat) or wrappers vary the rest, which
device_profile_layout absorbs. `--profiling_output_csv_file=f.csv` writes the tables as
unquoted comma-separated text without the log lines around them.

    df = read_device_profile("quicknet_rpi4.txt")
    df.groupby("node_type").avg_ms.sum(), df.attrs["model_avg_ms"]
"""

import math
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from lab_bnn.errors import UserError

import pandas as pd

from benchmarks.device_profile_layout import header_cells, is_csv_header, row_cells, strip_log_prefix

REGULAR_RUNS = "Operator-wise Profiling Info for Regular Benchmark Runs:"
EXPECTED = (
    f"the output of lce_benchmark_model --enable_op_profiling=true (TFLite's Run Order, "
    "Top by Computation Time and Summary by node type tables, under a "
    f"'{REGULAR_RUNS}' line or, before TensorFlow 2.3, right after 'Average inference "
    "timings'), as logged or as written with --profiling_output_csv_file"
)
INITIALIZATION = "Profiling Info for Benchmark Initialization:"

COLUMNS = [
    "node_type",
    "first_ms",
    "avg_ms",
    "percent",
    "cdf_percent",
    "mem_kb",
    "times_called",
    "name",
    "node_index",
]

# Header cells of the operator tables (text form, CSV form) → tidy column names.
_OP_HEADER = {
    "node type": "node_type",
    "start": "start_ms",
    "first": "first_ms",
    "avg ms": "avg_ms",
    "avg_ms": "avg_ms",
    "%": "percent",
    "cdf%": "cdf_percent",
    "mem kb": "mem_kb",
    "times called": "times_called",
    "name": "name",
}
_TYPE_HEADER = {
    "node type": "node_type",
    "count": "count",
    "avg ms": "avg_ms",
    "avg_ms": "avg_ms",
    "avg %": "percent",
    "cdf %": "cdf_percent",
    "mem kb": "mem_kb",
    "times called": "times_called",
}
_TITLE = re.compile(r"^=+ (.+?) =+$")
_STAT = re.compile(r"(\w+)=(\S+?)(?=\s|\(|$)")
_NODE_INDEX = re.compile(r":(\d+)$")


def read_device_profile(path: Union[str, Path]) -> pd.DataFrame:
    """The regular runs' per-operator profile in `path`, one row per node in run order.

    Arguments:
        path: a saved log of `lce_benchmark_model --enable_op_profiling=true`, or the
            file written with `--profiling_output_csv_file`.

    Returns:
        Columns `node_type` (e.g. "LceBconv2d", "CONV_2D", "TfLiteXNNPackDelegate"),
        `first_ms`, `avg_ms`, `percent` and `cdf_percent` (of the profiled total),
        `mem_kb`, `times_called` (per run), `name` (output tensors and node index) and
        `node_index` (the interpreter's node index from the name, as in
        `benchmarks.op_profile.profile_ops`' `index` when no delegate replaced nodes).
        `df.attrs` holds `source`, `op_total_avg_ms` (the summary's average of the sum
        of op times per run), `node_type_avg_ms` ({node type: ms per run}) and, when the
        log has them, the whole-model regular runs: `model_count`, `model_avg_ms`,
        `model_min_ms`, `model_max_ms`, `model_std_ms` (and `model_first_ms`).
        Only the primary graph is read when the model has several subgraphs.

    Raises:
        UserError: naming the path, if it is empty, missing or a folder, or the
            file, if it is empty, truncated, not text, or not such a profile.
        OSError: if the file cannot be read.

    Example:
        >>> df = read_device_profile("tests/benchmarks/fixtures/lce_benchmark_small_bnn.txt")
        >>> df.attrs["model_avg_ms"], df.avg_ms.sum()
    """
    problem = (
        "empty"
        if not str(path).strip()
        else "missing"
        if not Path(path).exists()
        else "a folder, not a file"
        if not Path(path).is_file()
        else ""
    )
    if problem:
        raise UserError(f"path={str(path)!r} is {problem}; give a file holding {EXPECTED}")
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise UserError(
            f"{path} is not text (byte {error.start} is not UTF-8); expected {EXPECTED}"
        ) from None
    return parse_device_profile(text, source=str(path))


def parse_device_profile(text: str, source: str = "<text>") -> pd.DataFrame:
    """`read_device_profile` of text already in memory; `source` names it in errors."""
    lines = [strip_log_prefix(line) for line in text.splitlines()]
    if not any(line.strip() for line in lines):
        raise UserError(f"{source} is empty; expected {EXPECTED}")
    start = _section_start(lines, source)
    log, section = lines[:start], _primary_graph(lines[start + 1 :])

    tables, summary = _tables(section, source)
    header, rows = tables["Run Order"]
    df = pd.DataFrame([_op_row(header, row, source) for row in rows], columns=COLUMNS[:-1])
    df["node_index"] = pd.array([_node_index(name) for name in df["name"]], dtype="Int64")
    df["times_called"] = df["times_called"].astype("int64")
    header, rows = tables["Summary by node type"]
    by_type = [_type_row(header, row, source) for row in rows]
    _check_consistency(df, tables["Top by Computation Time"], by_type, summary, source)

    df.attrs["source"] = source
    df.attrs["op_total_avg_ms"] = summary["timings"].get("avg", math.nan) / 1e3
    df.attrs["node_type_avg_ms"] = {row["node_type"]: row["avg_ms"] for row in by_type}
    df.attrs.update(_model_stats(log))
    return df


def _section_start(lines: List[str], source: str) -> int:
    """The index of the line after which the regular runs' profile begins.

    TensorFlow 2.3 and later title it with REGULAR_RUNS (after an initialization
    profile); before, the Run Order table followed 'Average inference timings' directly.
    """
    starts = [i for i, line in enumerate(lines) if line.strip() == REGULAR_RUNS]
    if len(starts) == 1:
        return starts[0]
    has_run_order = any(_run_order_title(line) for line in lines)
    has_initialization = any(line.strip() == INITIALIZATION for line in lines)
    if not starts and has_run_order and not has_initialization:
        averages = [i for i, line in enumerate(lines) if "Average inference timings" in line]
        return averages[-1] if averages else -1
    found = f"{len(starts)} '{REGULAR_RUNS}' lines" if starts else f"no '{REGULAR_RUNS}' line"
    seen = next(line.strip() for line in lines if line.strip())
    seen = seen if len(seen) <= 60 else seen[:57] + "..."
    raise UserError(
        f"{source} has {found} and no Run Order table of its own (its first line is "
        f"{seen!r}); expected {EXPECTED}"
    )


def _run_order_title(line: str) -> bool:
    title = _TITLE.match(line.strip())
    return bool(title) and title.group(1) == "Run Order"


def _primary_graph(section: List[str]) -> List[str]:
    """The lines of subgraph 0 (a multi-subgraph report repeats the tables per graph)."""
    if section and section[0].strip() == "Primary graph profile:":
        section = section[1:]
    for i, line in enumerate(section):
        if line.startswith("Subgraph (index:") or line.startswith("Delegate internal:"):
            return section[:i]
    return section


def _tables(section: List[str], source: str):
    """{title: (header cells, row lines)} of the section's tables, and its summary lines.

    Raises ValueError where a table or the closing summary is cut short.
    """
    tables: Dict[str, Tuple[str, List[str]]] = {}
    summary = {"executed": None, "observed": None, "timings": {}}
    i = 0
    while i < len(section):
        line = section[i].strip()
        title = _TITLE.match(line)
        if title:
            if title.group(1) in tables or i + 1 >= len(section):
                raise UserError(
                    f"{source}: table '{title.group(1)}' is repeated or has no "
                    f"header (truncated?); expected {EXPECTED}"
                )
            header, rows, i = section[i + 1], [], i + 2
            while i < len(section) and section[i].strip():
                rows.append(section[i])
                i += 1
            if i >= len(section):
                raise UserError(
                    f"{source} ends inside the '{title.group(1)}' table (truncated?); expected {EXPECTED}"
                )
            tables[title.group(1)] = (header, rows)
        elif line.startswith("Number of nodes executed:"):
            summary["executed"] = _integer(line.split(":", 1)[1], "nodes executed", source)
        elif line.startswith("Timings (microseconds):"):
            summary["timings"] = _stat(line.split(":", 1)[1], source)
        elif line.endswith(" nodes observed"):
            summary["observed"] = _integer(line[: -len(" nodes observed")], "nodes observed", source)
        i += 1
    missing = [t for t in ("Run Order", "Top by Computation Time", "Summary by node type") if t not in tables]
    if missing or summary["observed"] is None or summary["executed"] is None:
        lacking = ", ".join(
            [f"the '{t}' table" for t in missing]
            + ["'Number of nodes executed'"] * (summary["executed"] is None)
            + ["'N nodes observed'"] * (summary["observed"] is None)
        )
        raise UserError(f"{source}: the profile lacks {lacking} (truncated?); expected {EXPECTED}")
    return tables, summary


def _columns(header: str, known: Dict[str, str], source: str) -> List[str]:
    names = []
    for cell in header_cells(header):
        key = cell.strip("[]").strip().lower()
        if key not in known:
            raise UserError(f"{source}: unexpected table column {cell!r}; expected {EXPECTED}")
        names.append(known[key])
    return names


def _cells(header: str, row: str, known: Dict[str, str], source: str) -> Dict[str, str]:
    """The row's cells by column, split where its numbers are (see device_profile_layout)."""
    columns = _columns(header, known, source)
    cells = row_cells(columns, row, csv=is_csv_header(header))
    if not cells:
        raise UserError(
            f"{source}: table row {row.strip()!r} does not hold the columns "
            f"{header_cells(header)} (truncated?); expected {EXPECTED}"
        )
    return cells


def _op_row(header: List[str], row: str, source: str) -> list:
    cells = _cells(header, row, _OP_HEADER, source)
    missing = [c for c in COLUMNS[:-1] if c not in cells]
    if missing:
        raise UserError(f"{source}: the Run Order table lacks columns {missing}; expected {EXPECTED}")
    values = [_number(cells[c], c, source) for c in COLUMNS[1:-3]]
    return [
        cells["node_type"],
        *values,
        _integer(cells["times_called"], "times called", source),
        cells["name"],
    ]


def _type_row(header: List[str], row: str, source: str) -> dict:
    cells = _cells(header, row, _TYPE_HEADER, source)
    if "node_type" not in cells or "avg_ms" not in cells:
        raise UserError(
            f"{source}: the Summary by node type table lacks node type or avg ms; expected {EXPECTED}"
        )
    return {
        "node_type": cells["node_type"],
        "avg_ms": _number(cells["avg_ms"], "avg ms", source),
        "count": _integer(cells.get("count", "0"), "count", source),
    }


def _number(cell: str, what: str, source: str) -> float:
    try:
        return float(cell[:-1] if cell.endswith("%") else cell)
    except ValueError:
        raise UserError(f"{source}: {what} {cell!r} is not a number; expected {EXPECTED}") from None


def _integer(cell: str, what: str, source: str) -> int:
    try:
        value = int(cell.strip())
    except ValueError:
        value = None
    if value is None or abs(value) >= 2**62:
        raise UserError(f"{source}: {what} {cell.strip()!r} is not a count; expected {EXPECTED}")
    return value


def _node_index(name: str) -> Optional[int]:
    match = _NODE_INDEX.search(name)
    return int(match.group(1)) if match and len(match.group(1)) < 10 else None


def _stat(text: str, source: str) -> Dict[str, float]:
    """A TensorFlow `Stat` line, 'count=50 first=... curr=... min=... max=... avg=...
    std=...' or 'count=5 curr=812(all same)', as numbers (min/max/avg filled in)."""
    values = {key: _number(value, key, source) for key, value in _STAT.findall(text)}
    if "count" not in values:
        raise UserError(f"{source}: timing line {text.strip()!r} has no count; expected {EXPECTED}")
    if "curr" in values and "avg" not in values:  # all runs took the same time
        values.update(min=values["curr"], max=values["curr"], avg=values["curr"], std=0.0)
    return values


def _model_stats(log: List[str]) -> Dict[str, float]:
    """Whole-model timings of the regular runs from the log before the profile: the last
    bare `count=` line (warm-up runs log theirs first), else 'Inference (avg): ...'."""
    stats = {}
    for line in log:
        if line.strip().startswith("count="):
            try:
                stats = _stat(line, "log")
            except ValueError:
                continue
    if stats:
        result = {"model_count": int(stats["count"]) if math.isfinite(stats["count"]) else 0}
        for key in ("avg", "min", "max", "std", "first"):
            if key in stats:
                result[f"model_{key}_ms"] = stats[key] / 1e3
        return result
    for line in log:
        match = re.search(r"Inference \(avg\): (\S+)", line)
        if match:
            try:
                return {"model_avg_ms": float(match.group(1).rstrip(",")) / 1e3}
            except ValueError:
                return {}
    return {}


def _check_consistency(df: pd.DataFrame, top, by_type: List[dict], summary, source: str) -> None:
    """The report's own counts agree: a cut or spliced file rarely keeps them so."""
    counts = {
        "Run Order rows": len(df),
        "Number of nodes executed": summary["executed"],
        "nodes observed": summary["observed"],
    }
    if len(set(counts.values())) != 1:
        raise UserError(f"{source}: node counts disagree ({counts}); expected {EXPECTED}")
    if sum(row["count"] for row in by_type) != len(df):
        raise UserError(
            f"{source}: the Summary by node type counts "
            f"{sum(row['count'] for row in by_type)} nodes, the Run Order table "
            f"{len(df)}; expected {EXPECTED}"
        )
    names = set(df["name"])
    header, rows = top
    for row in rows:
        cells = _cells(header, row, _OP_HEADER, source)
        if cells.get("name") not in names:
            raise UserError(
                f"{source}: node {cells.get('name')!r} of Top by Computation "
                f"Time is not in the Run Order table; expected {EXPECTED}"
            )
