"""Run folders that never overwrite an earlier run, and atomic file writes."""

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict


def new_run_dir(output_dir: Path, experiment_name: str) -> Path:
    """output_dir/experiment_name, or experiment_name-2, -3, … if it already holds
    files: a new run never writes into, or resumes, an earlier one."""
    candidate, n = output_dir / experiment_name, 1
    while candidate.exists() and any(candidate.iterdir()):
        n += 1
        candidate = output_dir / f"{experiment_name}-{n}"
    candidate.mkdir(parents=True, exist_ok=True)
    return candidate


def write_text_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so readers never see half a file."""
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, delete=False, prefix=f".{path.name}."
    ) as temporary:
        temporary.write(text)
    os.chmod(temporary.name, 0o666 & ~_umask())  # as open() would; mkstemp makes it 0600
    os.replace(temporary.name, path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomic(path: Path, data: Dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def trim_metrics(path: Path, epochs_done: int) -> None:
    """Drop CSV rows of epochs a resumed run will train again (killed after its metrics
    were logged but before its checkpoint was saved)."""
    if not path.exists():
        return
    rows = list(csv.DictReader(path.open()))
    kept = [row for row in rows if int(row["epoch"]) < epochs_done]
    if len(kept) == len(rows):
        return
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(kept)
    write_text_atomic(path, text.getvalue())
