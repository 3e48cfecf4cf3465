"""Typed colocation parameters, parsed once from ``params:colocation``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rainscore.params import dataclass_from_params


@dataclass(frozen=True)
class ColocationConfig:
    """How radar frames are put on the IMERG grid and paired with IMERG half hours.

    Attributes:
        lag_minutes: Shift of the pairing: the IMERG half hour starting at T gets the radar
            frames of the half hour starting at ``T + lag_minutes`` (0, 30, 60, … for
            sensitivity studies; any multiple of the radar frame length, which comes from
            the radar inventory: :func:`rainscore.colocate.frames.frame_model`).
        block_half_hours: Half hours per unit of work (a time block); half hours are never
            split between blocks.
        max_rate: Rates above this (mm/h) are physically impossible; the reader masks them.
        max_impossible_fraction: Largest share of a file's data pixels (as read) above
            ``max_rate`` that is masked and counted; above it the file is dropped
            (``above_max_rate``) and its frames count as missing. A file with any negative
            value is always dropped (``negative_values``).
        strict: Stop at the first file that would be reported (skipped, partly masked, or
            without data in the box) instead of recording it (a skipped file's frames count
            as missing).
        read_window: Read only the rows and columns of each file that hold the box, for
            files whose inventory row gives their grid (``grid`` column) and a reader that
            takes a ``window`` keyword; same numbers as reading whole frames, in about half
            the time for the Météo-France mosaic.
    """

    lag_minutes: int = 0
    block_half_hours: int = 48
    max_rate: float = 300.0
    max_impossible_fraction: float = 0.01
    strict: bool = False
    read_window: bool = True

    def __post_init__(self) -> None:
        if self.block_half_hours < 1:
            raise ValueError(
                f"colocation.engine.block_half_hours must be >= 1, got {self.block_half_hours}"
            )
        if self.max_rate <= 0:
            raise ValueError(f"colocation.engine.max_rate must be > 0, got {self.max_rate}")
        if not 0 <= self.max_impossible_fraction <= 1:
            raise ValueError(
                "colocation.engine.max_impossible_fraction must be between 0 and 1, got "
                f"{self.max_impossible_fraction}"
            )

    @classmethod
    def from_dict(cls, params: dict[str, Any] | None) -> ColocationConfig:
        """Build from Kedro parameters; unknown keys are an error (typos must not pass).

        Args:
            params: Mapping of attribute names to values (missing ones take defaults).

        Returns:
            The configuration.

        Raises:
            ValueError: For an unknown key or an invalid value.
        """
        return dataclass_from_params(cls, params, section="colocation.engine")
