"""Project hooks: every parameter section is validated before any node runs."""

from __future__ import annotations

import logging
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import CatalogProtocol
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
