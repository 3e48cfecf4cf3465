"""One executor configuration for every stage that fans out: :class:`ExecutorConfig`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from rainscore.params import dataclass_from_params

#: What runs the units of work: this process, threads, local processes, a Dask cluster.
EXECUTORS = ("sequential", "threads", "processes", "dask")

#: Stages that may override the shared keys under ``execution.<stage>``.
STAGES = ("ingestion", "colocation", "scoring", "inference")


@dataclass(frozen=True)
class ExecutorConfig:
    """How a stage runs its units of work (files, time blocks, batches).

    Every executor gives the same results; only the time and the memory differ.

    Attributes:
        executor: ``sequential`` (this process), ``threads``, ``processes`` (local
            processes started from a fork server) or ``dask`` (a Dask distributed cluster).
        workers: Parallel workers: threads, processes, or workers of a local Dask cluster.
        dask_scheduler: Address of a Dask scheduler (``tcp://host:8786``), or ``local`` to
            start a ``LocalCluster`` of ``workers`` single-threaded workers.
        dask_processes: Whether a local Dask cluster uses processes (else threads).
        progress: Show progress bars.
    """

    executor: str = "processes"
    workers: int = 2
    dask_scheduler: str = "local"
    dask_processes: bool = True
    progress: bool = True

    def __post_init__(self) -> None:
        if self.executor not in EXECUTORS:
            raise ValueError(
                f"execution.executor must be one of {EXECUTORS}, got {self.executor!r}"
            )
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"execution.workers must be an integer >= 1, got {self.workers!r}")
        if not isinstance(self.dask_scheduler, str) or not self.dask_scheduler:
            raise ValueError(
                f"execution.dask_scheduler must be 'local' or an address, "
                f"got {self.dask_scheduler!r}"
            )
        for name in ("dask_processes", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"execution.{name} must be true or false, got {getattr(self, name)!r}"
                )

    @property
    def parallel(self) -> bool:
        """Whether units of work leave this thread (any executor but ``sequential``)."""
        return self.executor != "sequential"

    @classmethod
    def from_dict(
        cls, params: Mapping[str, Any] | None, *, stage: str | None = None
    ) -> ExecutorConfig:
        """Parse ``params:execution``, with the overrides of ``stage`` if it has some.

        The shared keys (``executor``, ``workers``…) apply to every stage; a stage's
        mapping (``execution.colocation``) overrides some of them for that stage only.

        Args:
            params: The ``execution`` section (``None``: all defaults).
            stage: One of :data:`STAGES`, or ``None`` for the shared configuration.

        Returns:
            The configuration of ``stage``.

        Raises:
            ValueError: For an unknown key or stage, or an invalid value (naming it).
        """
        if stage is not None and stage not in STAGES:
            raise ValueError(f"Unknown execution stage {stage!r}; known: {list(STAGES)}")
        params = dict(params or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(params) - set(known) - set(STAGES))
        if unknown:
            raise ValueError(
                f"Unknown execution parameters {unknown}; known: {known}, or a stage: "
                f"{list(STAGES)}"
            )
        overrides = {s: params.pop(s) for s in STAGES if s in params}
        shared = dataclass_from_params(cls, params, section="execution")
        configs = {s: shared.overridden(value, stage=s) for s, value in overrides.items()}
        return configs.get(stage, shared) if stage is not None else shared

    def overridden(self, params: Mapping[str, Any] | None, *, stage: str) -> ExecutorConfig:
        """This configuration with the keys of ``params`` replaced (a stage's overrides).

        Args:
            params: Keys of :class:`ExecutorConfig` and their values.
            stage: The stage's name, for the error messages.

        Returns:
            The new configuration.

        Raises:
            ValueError: For an unknown key or an invalid value.
        """
        if params is not None and not isinstance(params, Mapping):
            raise ValueError(f"execution.{stage} must be a mapping, got {params!r}")
        params = dict(params or {})
        known = [f.name for f in fields(self)]
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(f"Unknown execution.{stage} parameters {unknown}; known: {known}")
        try:
            return replace(self, **params)
        except ValueError as err:
            raise ValueError(str(err).replace("execution.", f"execution.{stage}.", 1)) from None
