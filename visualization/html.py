"""Self-contained HTML pages of altair charts and tables that load nothing from the internet.

The vega, vega-lite and vega-embed JavaScript is inlined from the `vl-convert-python`
package (the bundle altair's own `chart.save(path, inline=True)` uses), once per page, so a
page opens offline, from a CI artifact or an e-mail attachment alike.
"""

import errno
import functools
import html
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Iterable, Literal, Mapping, Optional, Tuple, Union

import altair as alt
import pandas as pd

Section = Union[alt.TopLevelMixin, pd.DataFrame, str]
Sections = Union[Mapping[str, Section], Iterable[Tuple[str, Section]]]
RENDERERS = ("svg", "canvas")

# Export (save as SVG/PNG) works offline; the editor and source views would open online tools.
_ACTIONS = {"export": True, "source": False, "compiled": False, "editor": False}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table.data { border-collapse: collapse; font-size: 0.9rem; display: block; overflow-x: auto; }
table.data th, table.data td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
table.data th { background: #f4f4f4; }
.chart-error { color: #b00020; white-space: pre-wrap; }
"""

# Draws every div.chart from the spec in the <script type="application/json"> beside it.
_EMBED_ALL = """
document.querySelectorAll("div.chart").forEach(function (div) {
  var spec = JSON.parse(document.getElementById(div.dataset.spec).textContent);
  vegaEmbed(div, spec, %s).catch(function (error) {
    div.className = "chart-error";
    div.textContent = "This chart could not be drawn: " + error;
  });
});
"""


def save_html(
    chart: alt.TopLevelMixin,
    path: Union[str, os.PathLike],
    *,
    title: Optional[str] = None,
    overwrite: bool = False,
    renderer: Literal["svg", "canvas"] = "svg",
) -> Path:
    """Write `chart` as an interactive HTML page that needs no network to open.

    Args:
        chart: any altair chart (Chart, LayerChart, concatenations).
        path: the .html file to write; missing parent folders are created.
        title: the page's <title>; defaults to the chart's title, else "Chart".
        overwrite: replace an existing file at `path` (otherwise FileExistsError).
        renderer: "svg" (sharp, and the marks are in the DOM) or "canvas".

    Returns:
        The path written.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.
        TypeError: `chart` is not an altair chart.
        ImportError: vl-convert-python is not installed.

    Example:
        >>> save_html(op_profile_chart(table), "runs/op_profile.html")
    """
    if not isinstance(chart, alt.TopLevelMixin):
        raise TypeError(f"save_html: expected an altair chart, got {type(chart).__name__}")
    if title is None:
        chart_title = chart.to_dict().get("title")
        title = chart_title.get("text") if isinstance(chart_title, dict) else chart_title
    if isinstance(title, list):
        title = " ".join(title)
    return _write_page(
        path,
        page_html(str(title or "Chart"), [(None, chart)], renderer=renderer, show_title=False),
        overwrite,
    )


def save_report(
    path: Union[str, os.PathLike],
    title: str,
    sections: Sections,
    *,
    overwrite: bool = False,
    renderer: Literal["svg", "canvas"] = "svg",
) -> Path:
    """Write one HTML page with a title and several charts, tables and paragraphs.

    Args:
        path: the .html file to write; missing parent folders are created.
        title: page title and top heading.
        sections: heading -> content, as a dict or as (heading, content) pairs, in page
            order. Content is an altair chart, a pandas DataFrame (drawn with `to_html`;
            its index is shown unless it is a plain RangeIndex) or a str (a paragraph).
        overwrite: replace an existing file at `path` (otherwise FileExistsError).
        renderer: "svg" or "canvas", for every chart on the page.

    Returns:
        The path written.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.
        TypeError: a section's content is of another type.
        ValueError: `sections` is empty, or `renderer` is not allowed.

    Example:
        >>> save_report("runs/report.html", "BiReal vs BiReal+LAB",
        ...             {"Latency per op type": op_profile_chart(ops),
        ...              "Trade-off": scatter_chart(results), "Numbers": results})
    """
    items = list(sections.items() if isinstance(sections, Mapping) else sections)
    if not items:
        raise ValueError(
            f"save_report: sections is empty ({sections!r}); "
            "allowed: at least one (heading, chart | DataFrame | str)"
        )
    return _write_page(path, page_html(title, items, renderer=renderer), overwrite)


def page_html(
    title: str,
    sections: Iterable[Tuple[Optional[str], Section]],
    *,
    renderer: Literal["svg", "canvas"] = "svg",
    show_title: bool = True,
) -> str:
    """The HTML text of a page: inlined JavaScript, then each section under its heading."""
    if renderer not in RENDERERS:
        raise ValueError(f"renderer={renderer!r}; allowed: {', '.join(RENDERERS)}")
    body = [f"<h1>{html.escape(title)}</h1>"] if show_title else []
    for i, (heading, content) in enumerate(sections):
        if heading is not None:
            body.append(f"<h2>{html.escape(str(heading))}</h2>")
        body.append(_section_html(i, heading, content))
    embed_options = json.dumps({"mode": "vega-lite", "renderer": renderer, "actions": _ACTIONS})
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_STYLE}</style>",
            f'<script type="text/javascript">\n{_javascript_bundle()}\n</script>',
            "</head>",
            "<body>",
            *body,
            f'<script type="text/javascript">{_EMBED_ALL % embed_options}</script>',
            "</body>",
            "</html>",
            "",
        ]
    )


def _section_html(i: int, heading: Optional[str], content: Section) -> str:
    if isinstance(content, alt.TopLevelMixin):
        # The default transformer puts the data in the spec itself (no side files), any size.
        with alt.data_transformers.enable("default"), alt.data_transformers.disable_max_rows():
            spec = content.to_dict()
        spec_json = json.dumps(spec).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return (
            f'<div class="chart" id="chart-{i}" data-spec="spec-{i}"></div>\n'
            f'<script type="application/json" id="spec-{i}">{spec_json}</script>'
        )
    if isinstance(content, pd.DataFrame):
        show_index = not isinstance(content.index, pd.RangeIndex)
        return content.to_html(index=show_index, border=0, classes="data", na_rep="")
    if isinstance(content, str):
        return f"<p>{html.escape(content)}</p>"
    raise TypeError(
        f"section {heading!r}: got {type(content).__name__}; "
        "allowed: an altair chart, a pandas DataFrame or a str"
    )


@functools.lru_cache(maxsize=None)
def _javascript_bundle() -> str:
    """vega-embed with vega and the vega-lite version altair writes specs for, as one script."""
    try:
        import vl_convert
    except ImportError as error:
        raise ImportError(
            "visualization.html needs the vl-convert-python package for the inlined vega "
            "JavaScript; it is pinned in setup.cfg: run ./install_requirements.sh"
        ) from error
    vl_version = "_".join(alt.SCHEMA_VERSION.split(".")[:2])  # "v6.4.1" -> "v6_4", vl-convert's naming
    bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    # "</script" inside the bundle would end the <script> element; "<\/" means the same in JS.
    return re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)


def _write_page(path: Union[str, os.PathLike], text: str, overwrite: bool) -> Path:
    """Write atomically: a reader sees the old file or the whole new one, never half a page."""
    path = Path(path)
    if not overwrite and path.exists():
        raise FileExistsError(_exists_message(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the page from other users
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_no_clobber(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
    return path


def _link_no_clobber(tmp: str, path: Path) -> None:
    # A hard link fails if `path` appeared since the check above, where a rename would replace it.
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(_exists_message(path)) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if path.exists():  # a file system without hard links: check, then rename
            raise FileExistsError(_exists_message(path)) from None
        os.replace(tmp, path)


def _exists_message(path: Path) -> str:
    return f"{path} already exists; pass overwrite=True to replace it"
