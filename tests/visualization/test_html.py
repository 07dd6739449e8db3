import ast
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from visualization import op_profile_chart, save_html, save_report, scatter_chart

REPO = Path(__file__).resolve().parents[2]


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of each <script>."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.scripts, self.in_script = [], [], False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append([dict(attrs), ""])
            self.in_script = True

    def handle_endtag(self, tag):
        self.in_script = self.in_script and tag != "script"

    def handle_data(self, data):
        if self.in_script:
            self.scripts[-1][1] += data


def assert_loads_nothing_from_outside(page_text):
    page = Elements(page_text)
    for tag, attrs in page.tags:
        assert "src" not in attrs or tag == "img", f"<{tag}> loads {attrs['src']}"
        for name in ("src", "href"):
            assert not str(attrs.get(name, "")).startswith(("http://", "https://", "//")), (tag, attrs)
    assert not any(tag == "link" for tag, _ in page.tags)


def test_chart_page_inlines_the_javascript_and_loads_nothing(tmp_path, op_table):
    chart = op_profile_chart(op_table)
    path = save_html(chart, tmp_path / "op.html")
    text = path.read_text(encoding="utf-8")
    assert_loads_nothing_from_outside(text)
    page = Elements(text)
    code = [body for attrs, body in page.scripts if attrs.get("type") == "text/javascript"]
    assert len(code) == 2 and len(code[0]) > 500_000  # vega + vega-lite + vega-embed, then the embed call
    assert "vegaEmbed" in code[1]
    specs = [json.loads(body) for attrs, body in page.scripts if attrs.get("type") == "application/json"]
    assert specs == [chart.to_dict()]
    assert ("title", {}) in page.tags and "<title>Latency per op type</title>" in text


def test_text_that_looks_like_html_stays_text(tmp_path, op_table):
    sneaky = op_table.replace({"QuickNet": "</script><script>alert(1)</script>"})
    path = save_html(op_profile_chart(sneaky), tmp_path / "op.html")
    page = Elements(path.read_text(encoding="utf-8"))
    assert len(page.scripts) == 3
    spec = json.loads(page.scripts[1][1])
    assert "</script><script>alert(1)</script>" in spec["encoding"]["y"]["sort"]


def test_an_existing_file_is_kept_unless_overwrite(tmp_path, op_table, scatter_table):
    path = tmp_path / "chart.html"
    path.write_text("keep me")
    with pytest.raises(FileExistsError, match=r"chart.html already exists; pass overwrite=True to replace"):
        save_html(op_profile_chart(op_table), path)
    assert path.read_text() == "keep me"
    save_html(scatter_chart(scatter_table), path, overwrite=True)
    assert "Accuracy vs latency" in path.read_text(encoding="utf-8")
    assert os.listdir(tmp_path) == ["chart.html"]  # no temporary file left behind
    assert path.stat().st_mode & 0o777 == 0o644


def test_missing_folders_are_created(tmp_path, scatter_table):
    path = save_html(scatter_chart(scatter_table), tmp_path / "runs" / "today" / "tradeoff.html")
    assert path.is_file() and os.listdir(path.parent) == ["tradeoff.html"]


def test_save_html_refuses_what_is_not_a_chart(tmp_path):
    with pytest.raises(TypeError, match=r"expected an altair chart, got dict"):
        save_html({"mark": "bar"}, tmp_path / "x.html")


def test_report_has_title_charts_tables_and_text_with_one_copy_of_the_javascript(
    tmp_path, op_table, scatter_table
):
    path = save_report(
        tmp_path / "report.html",
        "BiReal <vs> LAB",
        [
            ("Latency per op type", op_profile_chart(op_table)),
            ("Trade-off", scatter_chart(scatter_table)),
            ("Numbers", scatter_table),
            ("Notes", "Timed on <x86> with 1 thread."),
        ],
    )
    text = path.read_text(encoding="utf-8")
    assert_loads_nothing_from_outside(text)
    page = Elements(text)
    assert "<h1>BiReal &lt;vs&gt; LAB</h1>" in text
    assert [attrs["id"] for tag, attrs in page.tags if tag == "div" and attrs.get("class") == "chart"] == [
        "chart-0",
        "chart-1",
    ]
    assert sum(1 for attrs, _ in page.scripts if attrs.get("type") == "text/javascript") == 2
    assert "<td>BiReal+LAB</td>" in text and "<th>latency_ms</th>" in text
    assert "<p>Timed on &lt;x86&gt; with 1 thread.</p>" in text


def test_report_table_keeps_a_meaningful_index(tmp_path, scatter_table):
    path = save_report(tmp_path / "r.html", "r", {"By model": scatter_table.set_index("model")})
    assert "<th>BiReal</th>" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "sections, error, message",
    [
        ({}, ValueError, r"sections is empty \(\{\}\); allowed: at least one"),
        (
            {"Plot": [1, 2, 3]},
            TypeError,
            r"section 'Plot': got list; allowed: an altair chart, a pandas DataFrame or a str",
        ),
    ],
)
def test_report_refuses_bad_sections(tmp_path, sections, error, message):
    with pytest.raises(error, match=message):
        save_report(tmp_path / "r.html", "r", sections)
    assert not os.listdir(tmp_path)


def test_renderer_must_be_svg_or_canvas(tmp_path, scatter_table):
    with pytest.raises(ValueError, match=r"renderer='webgl'; allowed: svg, canvas"):
        save_html(scatter_chart(scatter_table), tmp_path / "x.html", renderer="webgl")


def test_visualization_imports_no_tensorflow():
    code = (
        "import sys, visualization; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'tensorflow', 'tf_keras', 'larq', 'lab_bnn', 'zoo', 'converter', 'benchmarks'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_nothing_imports_visualization():
    importers = []
    for package in ("lab_bnn", "zoo", "converter", "benchmarks"):
        for source in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                if any(n.split(".")[0] == "visualization" for n in names):
                    importers.append(str(source.relative_to(REPO)))
    assert importers == [], "imports flow lab_bnn <- zoo <- converter <- benchmarks <- visualization"
