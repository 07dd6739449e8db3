"""The saved pages really draw in a browser, offline: headless Chromium renders each one
with every network request sent to a closed port, and the rendered DOM must hold one
SVG mark per bar segment or point, labelled with its model.

Screenshots go to test-artifacts/visualization/ (git-ignored) for a person to look at.
Chromium comes from Debian (./install_requirements.sh installs it); without it these
tests skip, except under CI, where they fail.
"""

import os
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from visualization import op_profile_chart, save_html, save_report, scatter_chart
from visualization.op_profile import op_profile_segments

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "visualization"
OFFLINE = [
    "--proxy-server=127.0.0.1:9",  # every http(s) request goes to a closed local port
    "--host-resolver-rules=MAP * ~NOTFOUND",  # and no host name resolves
]


class RenderedMarks(HTMLParser):
    """From a DOM dump: vega's SVG roots, the aria-label of each drawn bar or point, and SVG text."""

    def __init__(self, dom: str):
        super().__init__()
        self.svg_roots, self.marks, self.texts, self._in_text = 0, [], [], False
        self.feed(dom)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.svg_roots += tag == "svg" and "marks" in (attrs.get("class") or "").split()
        if attrs.get("aria-roledescription") in ("bar", "circle"):
            self.marks.append(attrs.get("aria-label", ""))
        self._in_text = tag == "text"

    def handle_endtag(self, tag):
        self._in_text = False

    def handle_data(self, data):
        if self._in_text:
            self.texts.append(data)

    def marks_per_model(self):
        return Counter(label.split(": ", 1)[0] for label in self.marks)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "chromium is not on PATH; ./install_requirements.sh installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def render(chromium: str, page: Path, profile: Path, window: str = "1000,700") -> str:
    """The DOM of `page` once vega has drawn, and its screenshot saved under ARTIFACTS."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / f"{page.stem}.png"
    command = [
        chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",  # one per page: parallel workers must not share a profile
        *OFFLINE,
        "--virtual-time-budget=10000",  # let vega's promises and timers finish before the dump
        f"--window-size={window}", "--hide-scrollbars", f"--screenshot={screenshot}",
        "--dump-dom", page.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"chromium exited {result.returncode}: {result.stderr[-2000:]}"
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"no screenshot at {screenshot}"
    print(f"screenshot: {screenshot}")
    return result.stdout


def test_op_profile_draws_one_bar_per_model_with_a_segment_per_op_type(chromium, tmp_path, op_table):
    page = save_html(op_profile_chart(op_table, top_n=3), tmp_path / "op_profile.html")
    assert RenderedMarks(page.read_text(encoding="utf-8")).marks == []  # nothing drawn before vega runs

    drawn = RenderedMarks(render(chromium, page, tmp_path / "profile", window="1000,400"))

    segments = op_profile_segments(op_table, top_n=3)
    assert drawn.svg_roots == 1
    assert drawn.marks_per_model() == Counter(segments["model"])  # BiReal 3, BiReal+LAB 4, QuickNet 3
    assert sorted(drawn.marks) == sorted(segments["description"])
    assert {"BiReal", "BiReal+LAB", "QuickNet"} <= set(drawn.texts)  # the model axis labels


def test_scatter_draws_one_point_per_model(chromium, tmp_path, scatter_table):
    page = save_html(scatter_chart(scatter_table, accuracy_title="Top-1 [%]"), tmp_path / "scatter.html")

    drawn = RenderedMarks(render(chromium, page, tmp_path / "profile"))

    assert drawn.svg_roots == 1
    assert drawn.marks_per_model() == Counter({"BiReal": 1, "BiReal+LAB": 1, "QuickNet": 1})
    assert "BiReal+LAB: Top-1 [%] 57.8, 60.60 ms, 4.62 MB" in drawn.marks


def test_report_draws_every_chart_and_its_table(chromium, tmp_path, op_table, scatter_table):
    page = save_report(tmp_path / "report.html", "BiReal vs LAB", {
        "Latency per op type": op_profile_chart(op_table.query("model != 'QuickNet'"), top_n=3),
        "Trade-off": scatter_chart(scatter_table),
        "Numbers": scatter_table,
    })

    dom = render(chromium, page, tmp_path / "profile", window="1000,1300")
    drawn = RenderedMarks(dom)

    assert drawn.svg_roots == 2
    assert drawn.marks_per_model() == Counter({"BiReal": 3 + 1, "BiReal+LAB": 4 + 1, "QuickNet": 1})
    assert 'class="dataframe data"' in dom and "<td>BiReal+LAB</td>" in dom
    assert 'class="chart-error"' not in dom


def test_a_page_that_needs_the_internet_draws_nothing_here(chromium, tmp_path, op_table):
    # The control: altair's default page loads vega from a CDN, so under OFFLINE it stays
    # empty; the checks above would fail on it, and no page can fetch from outside.
    page = tmp_path / "cdn_page_offline.html"
    op_profile_chart(op_table).save(page)
    assert 'src="https://' in page.read_text(encoding="utf-8")

    drawn = RenderedMarks(render(chromium, page, tmp_path / "profile", window="600,300"))

    assert drawn.svg_roots == 0 and drawn.marks == []
