"""The HTML report: every figure embedded as a data URI, text escaped, no external URL."""

import pandas as pd
import pytest
from matplotlib.figure import Figure

from rainscore.reporting import ReportFigure
from rainscore.reporting.html import render_report
from rainscore.reporting.table import ReportTable
from rainscore.testing import ReportPage


def _figure(name: str, section: str, title: str = "t") -> ReportFigure:
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    return ReportFigure(name, section, title, f"caption of {name}", fig)


def _report() -> str:
    figures = [
        _figure("scores_a", "scores"),
        _figure("map_a", "maps", title="<b>best</b> & co"),
        _figure("ctx", "context"),
    ]
    tables = [
        ReportTable(
            "bad", "quality", "Bad inputs", "a <script>", pd.DataFrame({"file": ["<x>.h5"]})
        )
    ]
    metadata = {"period": "2024-06-10 to 2024-06-12", "maps": 144, "generated": "then"}
    return render_report(figures, tables, metadata)


def test_every_figure_embedded_once_in_section_order():
    page = ReportPage(_report())
    assert page.figures == ["map_a", "scores_a", "ctx"]
    assert len(page.images) == 3
    assert all(src.startswith("data:image/png;base64,iVBOR") for src in page.images)
    assert {"map_a", "scores_a", "ctx", "bad", "section_maps", "section_quality"} <= set(page.ids)
    assert all(link.startswith("#") for link in page.links)
    assert "#map_a" in page.links and "#bad" in page.links


def test_no_external_url_and_text_escaped():
    text = _report()
    assert "http://" not in text and "https://" not in text
    assert "<b>best</b>" not in text and "&lt;b&gt;best&lt;/b&gt; &amp; co" in text
    assert "<script>" not in text and "&lt;x&gt;.h5" in text
    page = ReportPage(text)
    assert "<b>best</b> & co" in page.text
    assert "144" in page.text and "2024-06-10 to 2024-06-12" in page.text


def test_duplicate_names_refused():
    with pytest.raises(ValueError, match="'a'"):
        render_report([_figure("a", "maps"), _figure("a", "scores")])


def test_empty_sections_left_out():
    page = ReportPage(render_report([_figure("m", "maps")]))
    assert "section_maps" in page.ids and "section_quality" not in page.ids
