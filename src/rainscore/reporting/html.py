"""The self-contained HTML report: figures embedded as PNG data URIs, no external resource.

:func:`render_report` is pure: the generation time and every other piece of run
metadata are passed in. The page holds its own CSS, no script, no link outside itself;
it opens offline in any browser.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from typing import Any

from rainscore.reporting.figure import SECTIONS, ReportFigure
from rainscore.reporting.table import ReportTable

#: Resolution of the embedded PNGs (dots per inch).
DEFAULT_DPI = 100
#: Section headings, by section name.
SECTION_TITLES: dict[str, str] = {
    "maps": "Example maps",
    "scores": "Score distributions",
    "context": "Scores against their context",
    "models": "Models: predicted against actual",
    "clusters": "Clusters",
    "latent": "Latent space",
    "quality": "Data quality",
}

_CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1400px; color: #222; }
nav ul { columns: 2; }
figure { margin: 1.5em 0; border-top: 1px solid #ddd; padding-top: 0.5em; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #444; max-width: 60em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
th { background: #f2f2f2; }
.meta th { width: 14em; }
"""


def png_bytes(figure: ReportFigure, *, dpi: int = DEFAULT_DPI) -> bytes:
    """The figure as PNG bytes, without the software tag (nothing but the image).

    Args:
        figure: The report figure.
        dpi: Dots per inch.

    Returns:
        The PNG file's bytes.
    """
    buffer = io.BytesIO()
    figure.figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def _figure_html(figure: ReportFigure, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="{html.escape(figure.name)}">\n'
        f"<h3>{html.escape(figure.title)}</h3>\n"
        f'<img src="data:image/png;base64,{data}" alt="{html.escape(figure.title)}">\n'
        f"<figcaption>{html.escape(figure.caption)}</figcaption>\n"
        "</figure>"
    )


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _table_html(table: ReportTable) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.frame.columns)
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in table.frame.itertuples(index=False, name=None)
    )
    return (
        f'<section id="{html.escape(table.name)}">\n'
        f"<h3>{html.escape(table.title)}</h3>\n"
        f"<p>{html.escape(table.caption)}</p>\n"
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n"
        "</section>"
    )


def _check_unique(figures: Sequence[ReportFigure], tables: Sequence[ReportTable]) -> None:
    seen: set[str] = set()
    for item in [*figures, *tables]:
        if item.name in seen:
            raise ValueError(f"report item name {item.name!r} appears twice (HTML anchors)")
        seen.add(item.name)


def render_report(
    figures: Sequence[ReportFigure],
    tables: Sequence[ReportTable] = (),
    metadata: Mapping[str, Any] | None = None,
    *,
    title: str = "rainscore report",
    dpi: int = DEFAULT_DPI,
    images: Mapping[str, bytes] | None = None,
) -> str:
    """The report as one HTML page: run metadata, contents, then each section in order.

    Each section of :data:`rainscore.reporting.SECTIONS` that has items shows its figures
    (``<figure id="name">`` with the PNG as a ``data:`` URI, title and caption), then its
    tables. All text is escaped.

    Args:
        figures: The figures, in the order shown within their section.
        tables: The tables.
        metadata: Run metadata shown at the top (period, number of maps, target score,
            version, generation time…), in order; values are shown as text.
        title: The page's title.
        dpi: Resolution of the embedded PNGs.
        images: PNG bytes already rendered (:func:`png_bytes`), by figure name; a figure
            absent from it is rendered here.

    Returns:
        The HTML document.

    Raises:
        ValueError: When two figures or tables share a name.
    """
    _check_unique(figures, tables)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if metadata:
        rows = "\n".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_cell(v))}</td></tr>"
            for k, v in metadata.items()
        )
        parts.append(f'<table class="meta">\n{rows}\n</table>')
    present = [
        s
        for s in SECTIONS
        if any(f.section == s for f in figures) or any(t.section == s for t in tables)
    ]
    contents = []
    for section in present:
        items = [f for f in figures if f.section == section]
        items += [t for t in tables if t.section == section]
        links = "".join(
            f'<li><a href="#{html.escape(i.name)}">{html.escape(i.title)}</a></li>' for i in items
        )
        contents.append(
            f'<li><a href="#section_{section}">{html.escape(SECTION_TITLES[section])}</a>'
            f"<ul>{links}</ul></li>"
        )
    parts.append("<nav><h2>Contents</h2><ul>" + "\n".join(contents) + "</ul></nav>")
    for section in present:
        parts.append(
            f'<section id="section_{section}"><h2>{html.escape(SECTION_TITLES[section])}</h2>'
        )
        for figure in (f for f in figures if f.section == section):
            png = (images or {}).get(figure.name) or png_bytes(figure, dpi=dpi)
            parts.append(_figure_html(figure, png))
        for table in (t for t in tables if t.section == section):
            parts.append(_table_html(table))
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)
