"""One figure of the HTML report: the figure and the words that go with it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from matplotlib.figure import Figure

#: The report's sections, in the order the HTML shows them.
SECTIONS: tuple[str, ...] = (
    "maps",  # example IMERG / radar / local error maps with their scores
    "scores",  # score distributions
    "context",  # scores against PMW age, IR influence, season, hour, regime
    "models",  # predicted against actual, every model and baseline, with intervals
    "clusters",  # decoded prototypes, the SOM grid coloured by median score
    "latent",  # a 2-D view of the latent space
    "quality",  # validation and bad-input summaries
)

_NAME = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class ReportFigure:
    """A figure with its place, title and caption in the report.

    Attributes:
        name: The PNG's file stem and the figure's HTML anchor (``[a-z0-9_]+``), unique
            in a report.
        section: One of :data:`SECTIONS`.
        title: A short heading.
        caption: What is shown, in which units, from which data (one or two sentences).
        figure: The Matplotlib figure (not shown; ``matplotlib.figure.Figure``).
    """

    name: str
    section: str
    title: str
    caption: str
    figure: Figure

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"report figure name {self.name!r}: use [a-z0-9_]+ only")
        if self.section not in SECTIONS:
            raise ValueError(
                f"report figure {self.name!r}: section {self.section!r} is not one of "
                f"{', '.join(SECTIONS)}"
            )
