"""A BiBench-style leaderboard: one CompactBNN per binarizer, same budget and seed,
with accuracy next to theoretical and measured cost. Resumable: finished rows are
kept, a killed row resumes from its last checkpoint."""

import json
import statistics
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Dict, List, Sequence

from lab_bnn.errors import UserError

import numpy as np
import pandas as pd

from benchmarks.latency import runner
from benchmarks.leaderboard_row import RESULT_FILE, Budget, run_row, training_task
from benchmarks.timing import interleaved_times
from zoo.experiments.run_folder import write_json_atomic, write_text_atomic
from zoo.models.compact_bnn import BINARIZER_CHOICES, FLOAT

# BiBench's binarizers, LAB and its baselines, BoolNet, then the float reference.
LEADERBOARD_BINARIZERS = (
    "bnn",
    "bi_real",
    "xnor_net",
    "dorefa",
    "xnor_plus_plus",
    "react_net",
    "recu",
    "fda",
    "lab",
    "niblack",
    "sauvola",
    "boolnet_k4",
    FLOAT,
)
SETTINGS_FILE = "leaderboard.json"
CSV_FILE = "leaderboard.csv"
RUNS = "runs"
SIDE_BY_SIDE_RUNS, SIDE_BY_SIDE_WARMUP = 300, 20
COLUMNS = [
    "binarizer",
    "title",
    "status",
    "accuracy",
    "lce_accuracy",
    "accuracy_vs_float",
    "points_below_float",
    "size_bytes",
    "size_vs_float",
    "binary_mac_fraction",
    "theoretical_binary_macs",
    "theoretical_float_macs",
    "theoretical_ops",
    "theoretical_speedup_vs_float",
    "latency_ms",
    "latency_vs_float",
    "measured_speedup_vs_float",
    "latency_ms_alone",
    "kernel",
    "threads",
    "host",
    "conversion",
    "binary_convs",
    "parity_top1_agreement",
    "max_sign_flip_rate",
    "train_seconds",
    "epochs",
    "batch_size",
    "learning_rate",
    "seed",
    "test_examples",
    "model",
    "dataset",
    "run_dir",
]


def parse_binarizers(text: str) -> List[str]:
    """'lab,bnn' → ['lab', 'bnn']; 'all' → every leaderboard binarizer.

    Raises:
        UserError: naming an unknown or repeated binarizer and the allowed ones.
    """
    names = (
        list(LEADERBOARD_BINARIZERS)
        if text.strip() == "all"
        else [n.strip() for n in text.split(",") if n.strip()]
    )
    unknown = [n for n in names if n not in BINARIZER_CHOICES]
    if unknown or not names:
        raise UserError(
            f"binarizers={text!r}: unknown {', '.join(map(repr, unknown)) or 'empty list'};"
            f" allowed: 'all' or a comma-separated list of "
            f"{', '.join(BINARIZER_CHOICES)}"
        )
    if len(set(names)) != len(names):
        raise UserError(f"binarizers={text!r} names a binarizer twice")
    return names


def check_settings(output_dir: Path, settings: Dict) -> None:
    """Record the settings of a new leaderboard folder, or refuse to mix a different
    budget into an existing one (its rows would not be comparable)."""
    path = output_dir / SETTINGS_FILE
    if not path.exists():
        output_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, settings)
        return
    saved = json.loads(path.read_text())
    changed = {k: (saved.get(k), v) for k, v in settings.items() if saved.get(k) != v}
    if changed:
        raise UserError(
            f"{output_dir} holds rows trained with other settings ("
            + ", ".join(f"{k}={old!r}, now {new!r}" for k, (old, new) in changed.items())
            + "); give another output_dir or the same settings to continue it"
        )


def leaderboard_table(rows: Sequence[Dict]) -> pd.DataFrame:
    """The rows with the columns relative to the float row (NaN without one)."""
    table = pd.DataFrame(list(rows)).reindex(columns=COLUMNS)
    reference = table[(table.binarizer == FLOAT) & (table.status == "ok")]
    ref = reference.iloc[0] if len(reference) else pd.Series(dtype=float)
    ratio = lambda column, ref_value: table[column] / ref_value if ref_value else np.nan  # noqa: E731
    table["accuracy_vs_float"] = ratio("accuracy", ref.get("accuracy"))
    table["points_below_float"] = 100 * (ref.get("accuracy", np.nan) - table.accuracy)
    table["size_vs_float"] = ratio("size_bytes", ref.get("size_bytes"))
    table["latency_vs_float"] = ratio("latency_ms", ref.get("latency_ms"))
    table["measured_speedup_vs_float"] = 1 / table.latency_vs_float
    table["theoretical_speedup_vs_float"] = ref.get("theoretical_ops", np.nan) / table.theoretical_ops
    return table


def time_side_by_side(rows: Sequence[Dict], threads: int) -> None:
    """Time every converted row's model again, in interleaved rounds (each on the
    kernel path chosen for it), so load and clock drift hit all rows alike; the
    medians replace `latency_ms`, the row's own timing stays as `latency_ms_alone`."""
    timed = [row for row in rows if row.get("status") == "ok" and row.get("kernel")]
    runners = {
        row["binarizer"]: runner(
            (Path(row["run_dir"]) / "model.tflite").read_bytes(),
            row["kernel"],
            threads,
            what=row["binarizer"],
        )
        for row in timed
    }
    times = interleaved_times(runners, runs=SIDE_BY_SIDE_RUNS, warmup=SIDE_BY_SIDE_WARMUP, threads=threads)
    for row in timed:
        row["latency_ms_alone"] = row.get("latency_ms_alone", row["latency_ms"])
        row["latency_ms"] = statistics.median(times[row["binarizer"]]) * 1e3


def run_leaderboard(
    output_dir: Path,
    binarizers: Sequence[str] = LEADERBOARD_BINARIZERS,
    *,
    dataset: str = "FashionMnist",
    budget: Budget = Budget(),  # noqa: B008  (a frozen dataclass: one shared default is safe)
    threads: int = 1,
    profile: bool = False,
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """Train and measure every binarizer's row, writing output_dir/leaderboard.csv after
    each (atomically); rows finished by an earlier, killed run are reused. At the end
    all rows are timed again side by side (`time_side_by_side`).

    Raises:
        UserError: for settings that differ from the folder's earlier run, or a bad
            dataset or budget (checked before any training).
        FileNotFoundError: if the dataset's files are missing.
    """
    output_dir = Path(output_dir).expanduser()
    binarizers = list(binarizers)
    for name in binarizers:
        if name not in BINARIZER_CHOICES:
            raise UserError(f"unknown binarizer {name!r}; allowed: {', '.join(BINARIZER_CHOICES)}")
    if threads < 1:
        raise UserError(f"threads must be a positive integer; received {threads}")
    preflight = training_task(binarizers[0], dataset, budget, output_dir / RUNS, resume=False)
    preflight.dataset.split("validation")  # a missing dataset fails here, once
    check_settings(output_dir, {"dataset": dataset, "threads": threads, **asdict(budget)})

    rows = []
    for number, name in enumerate(binarizers, 1):
        finished = (output_dir / RUNS / name / RESULT_FILE).exists()
        log(
            f"[{number}/{len(binarizers)}] {name}: "
            + ("finished by an earlier run, kept" if finished else "training, converting and measuring")
        )
        row = run_row(name, dataset, budget, output_dir / RUNS, threads=threads, profile=profile)
        rows.append(row)
        accuracy = row.get("accuracy")
        log(
            f"[{number}/{len(binarizers)}] {name}: {row['status']}"
            + (f", accuracy {accuracy:.4f}" if isinstance(accuracy, float) else "")
            + (f", {row['conversion']}" if row["status"] != "ok" else "")
        )
        write_text_atomic(output_dir / CSV_FILE, leaderboard_table(rows).to_csv(index=False))
    log(f"timing all {len(rows)} models side by side ({SIDE_BY_SIDE_RUNS} interleaved rounds)")
    time_side_by_side(rows, threads)
    table = leaderboard_table(rows)
    write_text_atomic(output_dir / CSV_FILE, table.to_csv(index=False))
    return table
