"""The saved pages really draw in a browser, offline: headless Chromium renders each one
with every network request sent to a closed port, and the rendered DOM must hold one
SVG mark per bar segment or point, labelled with its model.

Screenshots go to test-artifacts/visualization/ (see tests/chromium_page.py).
"""

from collections import Counter

from visualization import op_profile_chart, save_html, save_report, scatter_chart
from visualization.op_profile import op_profile_segments

from chromium_page import RenderedMarks, chromium, render  # noqa: F401 (chromium: fixture)


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
    page = save_report(
        tmp_path / "report.html",
        "BiReal vs LAB",
        {
            "Latency per op type": op_profile_chart(op_table.query("model != 'QuickNet'"), top_n=3),
            "Trade-off": scatter_chart(scatter_table),
            "Numbers": scatter_table,
        },
    )

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
