"""Adding rows to a tidy CSV file so that every row stays under its own header.

    path = append_rows(Path("model.latency.csv"), [record_row])

A measurement whose columns differ from the file's (a newer record, another kernel path)
rewrites the file with the union of the columns, earlier rows kept as written and their
new cells empty. The rewrite is atomic: a reader sees the old file or the new one.
"""

import csv
import io
import math
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from converter.output_files import next_free_path
from zoo.experiments.run_folder import write_text_atomic


def read_rows(path: Path) -> Tuple[List[str], List[List[str]]]:
    """(header, rows) of a CSV file as text cells.

    Raises:
        ValueError: if a row has more or fewer cells than the header (a file that an
            older `lqz Benchmark` corrupted by appending rows of other columns).
    """
    table = list(csv.reader(io.StringIO(path.read_text(), newline="")))
    header, rows = (table[0], table[1:]) if table else ([], [])
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise ValueError(
                f"{path}: line {number} has {len(row)} cells under a header of {len(header)} columns"
            )
    return header, rows


def append_rows(path: Path, rows: Sequence[Dict[str, object]]) -> Path:
    """Add `rows` (dicts of column → value) to the CSV at `path`; returns the path written.

    The columns are the file's, then any new ones in the order the rows give them.
    None and NaN are written as empty cells. A file whose rows do not fit its header
    is left untouched and the rows go to the first free `<name>-N.csv` instead.
    """
    path = Path(path)
    header, old_rows = [], []
    if path.exists():
        try:
            header, old_rows = read_rows(path)
        except (ValueError, UnicodeDecodeError):
            path = next_free_path(path)  # keep the unreadable file as it is
    columns = list(header)
    for row in rows:
        columns += [name for name in row if name not in columns]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    for old in old_rows:
        writer.writerow(old + [""] * (len(columns) - len(header)))
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in columns])
    write_text_atomic(path, text.getvalue())
    return path


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
