"""Typed ingestion parameters, parsed once from ``params:ingestion``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rainscore.half_hour import HALF_HOUR_MINUTES
from rainscore.io.imerg_filename import check_run
from rainscore.params import dataclass_from_params


@dataclass(frozen=True)
class IngestionConfig:
    """How raw files are read.

    Attributes:
        strict: Stop at the first bad file instead of reporting and skipping it.
        imerg_run: ``auto`` (the run with most files) or ``early``/``late``/``final``
            (:data:`~rainscore.io.imerg_filename.IMERG_RUNS`); files of another run are
            skipped.
        imerg_variables: Normalised IMERG variables to keep (``None``: all).
        radar_grid_id: Expected radar grid id, or ``auto`` (the most common grid).
        radar_frame_minutes: Length of a radar frame in minutes (accumulation length, or
            spacing of rate snapshots), dividing 30; ``None``: from the files (the most
            common one, :func:`rainscore.colocate.frames.frame_model`). The one setting of
            the frame length: frames per half hour, weights and the frames a scored cell
            needs follow from it.
        block_half_hours: Half hours of the IMERG cube read and written at a time
            (:class:`rainscore.ingest.ImergCubeBlocks`; a day by default).
    """

    strict: bool = False
    imerg_run: str = "auto"
    imerg_variables: tuple[str, ...] | None = None
    radar_grid_id: str = "auto"
    radar_frame_minutes: int | None = None
    block_half_hours: int = 48

    def __post_init__(self) -> None:
        minutes = self.radar_frame_minutes
        if minutes is not None and (
            isinstance(minutes, bool)
            or not isinstance(minutes, int)
            or minutes < 1
            or HALF_HOUR_MINUTES % minutes
        ):
            raise ValueError(
                f"ingestion.radar_frame_minutes must be null or whole minutes dividing "
                f"{HALF_HOUR_MINUTES}, got {minutes!r}"
            )
        check_run(self.imerg_run, parameter="ingestion.imerg_run", allow_auto=True)
        blocks = self.block_half_hours
        if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 1:
            raise ValueError(
                f"ingestion.block_half_hours must be a whole number ≥ 1, got {blocks!r}"
            )

    @classmethod
    def from_dict(cls, params: dict[str, Any] | None) -> IngestionConfig:
        """Build from Kedro parameters; unknown keys are an error (typos must not pass)."""
        config = dataclass_from_params(cls, params, section="ingestion")
        if config.imerg_variables is not None:
            object.__setattr__(config, "imerg_variables", tuple(config.imerg_variables))
        return config
