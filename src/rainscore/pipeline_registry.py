"""The project's pipelines.

``__default__`` runs the analysis chain on whatever raw data the catalog points at
(ingestion, colocation, scoring, training, representation, clustering, inference: every
pipeline found but the demo), and ends with the ``reporting`` pipeline's HTML report. The
``demo`` pipeline, which writes the synthetic world into ``data/01_raw/demo``, is not part
of it: it stands in for the external archives.
"""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    pipelines = find_pipelines(raise_errors=True)
    analysis = [p for name, p in pipelines.items() if name not in ("demo", "reporting")]
    # A session that asks for some pipelines gets only those built (find_pipelines).
    report = pipelines.get("reporting", Pipeline([]))
    pipelines["__default__"] = sum(analysis, start=Pipeline([])) + report
    return pipelines
