"""The tables of an HTML page, read with the standard library (no lxml here)."""

from html.parser import HTMLParser
from typing import List

import pandas as pd


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: List[List[List[str]]] = []
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def read_tables(page: str) -> List[pd.DataFrame]:
    """Every <table> of `page` as a DataFrame of strings, its first row the header."""
    parser = _Tables()
    parser.feed(page)
    return [pd.DataFrame(rows[1:], columns=rows[0]) for rows in parser.tables if rows]
