"""Render a saved page in headless Chromium, offline, and read what it drew.

Screenshots go to test-artifacts/visualization/ (git-ignored) for a person to look at.
Chromium comes from Debian (./install_requirements.sh installs it); a test that needs it
fails without it, never skips.
"""

import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "visualization"
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
        pytest.fail("chromium is not on PATH; ./install_requirements.sh installs Debian's chromium")
    return path


def render(chromium: str, page: Path, profile: Path, window: str = "1000,700") -> str:
    """The DOM of `page` once vega has drawn, and its screenshot saved under ARTIFACTS."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / f"{page.stem}.png"
    command = [
        chromium,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",  # one per page: parallel workers must not share a profile
        *OFFLINE,
        "--virtual-time-budget=10000",  # let vega's promises and timers finish before the dump
        f"--window-size={window}",
        "--hide-scrollbars",
        f"--screenshot={screenshot}",
        "--dump-dom",
        page.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"chromium exited {result.returncode}: {result.stderr[-2000:]}"
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"no screenshot at {screenshot}"
    print(f"screenshot: {screenshot}")
    return result.stdout
