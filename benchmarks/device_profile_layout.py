"""The layout of a TFLite profile report: log-line prefixes, and the cells of a table
row whatever became of its separators.

TensorFlow's StatsCalculator writes each row as right-aligned cells after a tab, the name
last; a terminal or editor may turn the tabs into spaces, a logger may add tabs, and the
CSV form (`--profiling_output_csv_file`) joins cells with ", " without quoting, so XNNPACK
node types such as "Convolution (NHWC, QU8) IGEMM" hold the separator. Every cell but the
node type (first) and the name (last) is a number, so a row is split where its numbers
are: one pattern per table header, whichever separator the row uses.
"""

import re
from typing import Dict, List

# TFLITE_LOG's severity ("INFO: ") or an Android logcat line's date, ids, level and tag.
_LOG_PREFIX = re.compile(
    r"^(?:(?:INFO|WARN|WARNING|ERROR|VERBOSE|DEBUG): "
    r"|\d\d-\d\d \d\d:\d\d:\d\d\.\d+\s+\d+\s+\d+ [VDIWEF] [^:]*: )"
)
# A number as StatsCalculator prints it: "0.092", "11.917%", "1", or "nan"/"inf".
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|nan|inf)%?"
_TEXT_GAP, _CSV_GAP = r"\s+", r"\s*,\s*"


def strip_log_prefix(line: str) -> str:
    """The line as the formatter wrote it, without what a logger put before it."""
    return _LOG_PREFIX.sub("", line, count=1)


def header_cells(line: str) -> List[str]:
    """A header's cell texts: "[node type]  [first] ..." (any spacing) or CSV."""
    line = line.strip()
    if line.startswith("["):
        return [cell.strip() for cell in re.findall(r"\[([^\]]*)\]", line)]
    return [cell.strip() for cell in line.split(",")]


def is_csv_header(line: str) -> bool:
    return not line.strip().startswith("[")


def row_cells(columns: List[str], row: str, csv: bool) -> Dict[str, str]:
    """{column: cell} of `row`, or {} when its numbers do not fill the numeric columns.

    `columns` names the header's cells in order; the first is the node type, a last
    "name" column is free text. In the CSV form the name's commas became tabs (TensorFlow
    replaces them so the row keeps its column count); they are put back, so a profile
    read from the log and from its CSV file names its nodes alike.
    """
    gap = _CSV_GAP if csv else _TEXT_GAP
    named = columns[-1] == "name"
    numeric = columns[1:-1] if named else columns[1:]
    pattern = r"(?P<c0>.+?)" + "".join(f"{gap}(?P<c{i + 1}>{_NUMBER})" for i in range(len(numeric)))
    if named:
        pattern += f"(?:{gap}(?P<c{len(columns) - 1}>.*?))?"
    match = re.fullmatch(pattern + r"\s*", row.strip(), flags=re.IGNORECASE)
    if not match:
        return {}
    cells = {column: (match.group(f"c{i}") or "").strip() for i, column in enumerate(columns)}
    if named and csv:
        cells["name"] = cells["name"].replace("\t", ",")
    return cells
