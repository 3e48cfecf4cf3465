"""One table of the HTML report: the table and the words that go with it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rainscore.reporting.figure import ReportFigure


@dataclass(frozen=True)
class ReportTable:
    """A table with its place, title and caption in the report (as :class:`ReportFigure`).

    Attributes:
        name: The table's HTML anchor (``[a-z0-9_]+``), unique in a report.
        section: One of :data:`rainscore.reporting.figure.SECTIONS`.
        title: A short heading.
        caption: What is shown, from which data.
        frame: The rows; its columns are the headings (the index is not shown).
    """

    name: str
    section: str
    title: str
    caption: str
    frame: pd.DataFrame

    def __post_init__(self) -> None:
        ReportFigure.__post_init__(self)  # type: ignore[arg-type]  # same name and section rules
