"""Project hooks: before any node runs, every parameter section is validated and a pipeline
run alone is checked for inputs that another pipeline makes and that do not exist yet;
during a tracked run, the evaluation tables and the model artefacts are logged to MLflow.

The two checks run before every other ``before_pipeline_run`` hook (``tryfirst``), in
particular before kedro-mlflow's, which opens the run's MLflow run: a run stopped by them
leaves no MLflow run behind."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import Any

import click
from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol, DatasetError
from kedro.pipeline import Node, Pipeline

from rainscore import tracking
from rainscore.param_sections import validate_parameters

logger = logging.getLogger(__name__)


class ParameterValidationHooks:
    """Parse every parameter section (:func:`rainscore.param_sections.validate_parameters`)
    before a run starts, so a bad value or a misspelt section (``--params
    ingestoin.strict=true``) stops ``kedro run`` before any node does work."""

    @hook_impl(tryfirst=True)
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
    pipeline makes (optional previous versions, study folders) are not checked; the raw
    archives are the demo's outputs, so a missing one names the demo pipeline (or point
    the catalog at real archives).
    """

    @hook_impl(tryfirst=True)
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


TRACKED_TABLES = (
    "model_evaluation",
    "clustering_evaluation",
    "reconstruction_quality",
    "clustering_selection",
    "cluster_labels",
)
"""Tables logged as MLflow tables (``tables/<name>.json``) when a node saves them."""

TRACKED_SCORES = ("model_evaluation", "clustering_evaluation")
"""Evaluation tables whose headline scores are also run metrics (``<name>.<model>.<score>``)."""

TRACKED_SUMMARIES = ("unet_best_params", "autoencoder_best_params")
"""Study summaries logged as JSON artifacts (``<name>.json``)."""

TRACKED_MODELS = ("unet_model", "autoencoder_model", "kmeans_model", "dec_model", "desom_model")
"""Model artefacts logged as artifact folders (``models/<name>``: safetensors + model.json)."""


class TrackingHooks:
    """Log the model pipelines' evaluation tables, study summaries and model artefacts to
    the run's MLflow run as their nodes save them (:mod:`rainscore.tracking`).

    kedro-mlflow opens the MLflow run and logs the nodes' parameters; the per-epoch losses
    and the Optuna trials are logged by the nodes themselves. Without an active MLflow run
    (tracking off, or a runner whose nodes run in other processes) nothing is logged.
    """

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Node) -> None:
        """Log ``data`` when ``dataset_name`` is tracked.

        Args:
            dataset_name: The saved dataset's catalog name.
            data: What the node saved.
            node: The node that saved it.
        """
        if dataset_name in TRACKED_TABLES:
            tracking.log_table(dataset_name, data)
        if dataset_name in TRACKED_SCORES:
            tracking.log_scores(dataset_name, data)
        if dataset_name in TRACKED_SUMMARIES:
            tracking.log_summary(dataset_name, data)
        if dataset_name in TRACKED_MODELS:
            tracking.log_model_artefact(dataset_name, data)
