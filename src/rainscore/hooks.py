"""Project hooks: before any node runs, every parameter section is validated and a pipeline
run alone is checked for inputs that another pipeline makes and that do not exist yet."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import Any

import click
from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol, DatasetError
from kedro.pipeline import Pipeline

from rainscore.param_sections import validate_parameters

logger = logging.getLogger(__name__)


class ParameterValidationHooks:
    """Parse every parameter section (:func:`rainscore.param_sections.validate_parameters`)
    before a run starts, so a bad value or a misspelt section (``--params
    ingestoin.strict=true``) stops ``kedro run`` before any node does work."""

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        """Validate the run's merged parameters (``parameters.yml`` files and ``--params``).

        Raises:
            rainscore.param_sections.ParameterError: Listing every problem.
        """
        sections = validate_parameters(catalog.load("parameters"))
        logger.info("Parameters valid: %s", ", ".join(sections))


class MissingInputsError(click.ClickException):
    """A pipeline's inputs made by other pipelines do not exist yet (the message says which).

    A ``click`` error: ``kedro run`` prints ``Error: <message>`` and exits with status 1,
    without a traceback.
    """


def _project_pipelines() -> dict[str, Pipeline]:
    """Every pipeline of ``rainscore.pipelines`` (``find_pipelines`` would build only those
    of the run: a session asks Kedro for the requested ones alone)."""
    package = importlib.import_module("rainscore.pipelines")
    return {
        info.name: importlib.import_module(f"{package.__name__}.{info.name}").create_pipeline()
        for info in pkgutil.iter_modules(package.__path__)
        if info.ispkg
    }


def _producers(pipelines: dict[str, Pipeline]) -> dict[str, str]:
    """Dataset name → the pipeline whose nodes write it."""
    return {
        output: name
        for name, pipeline in pipelines.items()
        for node in pipeline.nodes
        for output in node.outputs
    }


def _exists(catalog: CatalogProtocol, name: str) -> bool:
    """Whether ``name`` has data (a versioned dataset without any version has none)."""
    try:
        return bool(catalog.exists(name))
    except DatasetError:
        return False


class MissingInputsHooks:
    """Stop a run whose inputs made by another pipeline do not exist yet, naming that pipeline.

    ``kedro run --pipelines=clustering`` before the representation pipeline has run fails
    here with one message listing each missing input, the pipeline that makes it and the
    command to run first, instead of a loading error deep in the first node. Inputs no
    pipeline makes (raw archives, optional previous versions, study folders) are not
    checked.
    """

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        """Check the run's free inputs that other pipelines make.

        Raises:
            MissingInputsError: Naming the missing inputs, grouped by the pipeline that makes
                them, and the ``kedro run`` command for those pipelines in run order.
        """
        pipelines = _project_pipelines()
        producers = _producers(pipelines)
        missing: dict[str, list[str]] = {}
        for name in sorted(pipeline.inputs()):
            if name in producers and not _exists(catalog, name):
                missing.setdefault(producers[name], []).append(name)
        if not missing:
            return
        order = [n.name for n in sum(pipelines.values(), start=Pipeline([])).nodes]
        first = {name: min(order.index(n.name) for n in pipelines[name].nodes) for name in missing}
        upstream = sorted(missing, key=first.__getitem__)
        running = ",".join(run_params.get("pipeline_names") or []) or "requested"
        listed = "; ".join(f"{', '.join(missing[p])} ({p})" for p in upstream)
        raise MissingInputsError(
            f"The {running} pipeline needs inputs that do not exist yet: {listed}. "
            f"Run first: kedro run --pipelines={','.join(upstream)}"
        )
