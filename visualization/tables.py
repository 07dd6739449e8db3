"""Checks that a tidy table has what a chart needs, with errors that say what is wrong."""

from typing import Mapping

import numpy as np
import pandas as pd

TEXT = "text"
NON_NEGATIVE = "number >= 0"


def validate_table(table: pd.DataFrame, columns: Mapping[str, str], *, chart: str) -> None:
    """Raise unless `table` is a non-empty DataFrame whose `columns` hold what they should.

    Args:
        table: the tidy table handed to a chart function.
        columns: column name -> TEXT (any non-missing value, shown as text) or
            NON_NEGATIVE (finite numbers >= 0). Other columns are allowed and ignored.
        chart: the calling function's name, so the error says who refused the table.

    Raises:
        TypeError: `table` is not a pandas.DataFrame.
        ValueError: the table is empty, lacks a column, or a column holds a missing,
            non-numeric, non-finite or negative value where that is not allowed.

    Example:
        >>> validate_table(df, {"model": TEXT, "ms": NON_NEGATIVE}, chart="op_profile_chart")
    """
    expected = ", ".join(f"{name} ({kind})" for name, kind in columns.items())
    if not isinstance(table, pd.DataFrame):
        raise TypeError(
            f"{chart}: expected a pandas.DataFrame with columns {expected}, got {type(table).__name__}"
        )
    missing = [name for name in columns if name not in table.columns]
    if missing:
        raise ValueError(
            f"{chart}: table is missing column(s) {', '.join(map(repr, missing))}; "
            f"got columns {list(map(str, table.columns))}, expected {expected}"
        )
    if len(table) == 0:
        raise ValueError(
            f"{chart}: table is empty (0 rows, columns {list(map(str, table.columns))}); "
            f"expected at least one row with {expected}"
        )
    for name, kind in columns.items():
        column = table[name]
        if isinstance(column, pd.DataFrame):
            raise ValueError(f"{chart}: table has {column.shape[1]} columns named {name!r}; expected one")
        missing_rows = column.isna()
        if missing_rows.any():
            raise ValueError(
                f"{chart}: column {name!r} has {int(missing_rows.sum())} missing value(s) "
                f"(first at index {column.index[missing_rows.to_numpy()][0]!r}); "
                f"allowed: {kind}"
            )
        if kind == TEXT:
            continue
        if kind != NON_NEGATIVE:
            raise ValueError(
                f"unknown column kind {kind!r} for {name!r}; allowed: {TEXT!r}, {NON_NEGATIVE!r}"
            )
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            raise ValueError(
                f"{chart}: column {name!r} has dtype {column.dtype} "
                f"(first value {column.iloc[0]!r}); allowed: {kind}"
            )
        values = column.to_numpy(dtype=float)
        for what, bad in (("a non-finite value", ~np.isfinite(values)), ("a negative value", values < 0)):
            if bad.any():
                first = int(bad.argmax())
                raise ValueError(
                    f"{chart}: column {name!r} has {what}, {float(values[first])!r} at index "
                    f"{column.index[first]!r} ({int(bad.sum())} such row(s)); allowed: {kind}"
                )
