"""The training split: chronological blocks of time for train, validation and test.

Rain maps half an hour apart are nearly the same map, so a random split of half hours
would put near-copies of the test maps in the training set. The split is made of whole
blocks of time instead (7 days by default, a day on the 3-day demo), assigned in turn by a
repeating pattern (``train, train, train, validation, test``), with a gap: the first
``gap`` of a block whose split differs from the previous block's belongs to no split, so
the last training map and the first validation map are at least ``gap`` apart. Every model
of the project uses the same table (``training_split``).

Blocks start at midnight UTC of the first day of the period: block ``k`` holds the times in
``[day0 + k·block, day0 + (k+1)·block)`` and gets ``pattern[k % len(pattern)]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rainscore.params import dataclass_from_params

__all__ = ["SPLITS", "SplitConfig", "make_split", "split_times"]

SPLITS: tuple[str, ...] = ("train", "validation", "test")
"""The splits a pattern assigns; ``gap`` marks the excluded times."""
GAP = "gap"


@dataclass(frozen=True)
class SplitConfig:
    """How the period is cut into chronological blocks (``training.split``).

    Attributes:
        block: Length of a block (a pandas offset: ``7D``, ``1D``, ``12h``).
        gap: Length excluded at the start of a block whose split differs from the previous
            block's (``1D``, ``3h``; ``0h`` for none); shorter than ``block``.
        pattern: Splits of consecutive blocks, repeated over the period; it must name
            ``train``, ``validation`` and ``test``.
    """

    block: str = "7D"
    gap: str = "1D"
    pattern: tuple[str, ...] = ("train", "train", "train", "validation", "test")

    def __post_init__(self) -> None:
        block, gap = self.block_length, self.gap_length
        if block <= pd.Timedelta(0):
            raise ValueError(
                f"training.split.block must be a positive duration, got {self.block!r}"
            )
        if gap < pd.Timedelta(0) or gap >= block:
            raise ValueError(
                f"training.split.gap must be >= 0 and shorter than the block ({self.block}), "
                f"got {self.gap!r}"
            )
        unknown = sorted(set(self.pattern) - set(SPLITS))
        if unknown:
            raise ValueError(
                f"training.split.pattern: unknown splits {unknown} (known: {list(SPLITS)})"
            )
        missing = [s for s in SPLITS if s not in self.pattern]
        if missing:
            raise ValueError(
                f"training.split.pattern {list(self.pattern)} must name every split; "
                f"missing {missing}"
            )

    @property
    def block_length(self) -> pd.Timedelta:
        """``block`` as a duration."""
        return _duration(self.block, "block")

    @property
    def gap_length(self) -> pd.Timedelta:
        """``gap`` as a duration."""
        return _duration(self.gap, "gap")

    @classmethod
    def from_dict(cls, params: dict[str, Any] | None) -> SplitConfig:
        """Build from ``params:training.split`` (unknown keys are an error)."""
        return dataclass_from_params(cls, params, section="training.split")


def _duration(value: str, name: str) -> pd.Timedelta:
    try:
        return pd.Timedelta(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"training.split.{name} must be a duration such as '7D' or '3h', got {value!r}"
        ) from None


def make_split(times: pd.DatetimeIndex, config: SplitConfig | None = None) -> pd.DataFrame:
    """Assign every time to a block and to ``train``, ``validation``, ``test`` or ``gap``.

    Args:
        times: The maps' times (unique; any order: the table is sorted).
        config: Blocks, gap and pattern (default: :class:`SplitConfig`).

    Returns:
        One row per time, in time order: ``time`` (datetime64[ns]), ``block`` (int64,
        counted from the first day of the period) and ``split``.

    Raises:
        ValueError: No times, repeated times, or a period too short to give every split at
            least one time (naming the empty splits and the parameters to change).
    """
    config = config or SplitConfig()
    times = pd.DatetimeIndex(times)
    if len(times) == 0:
        raise ValueError("make_split: no times to split")
    if times.has_duplicates:
        repeated = times[times.duplicated()].unique()[:3].tolist()
        raise ValueError(f"make_split: repeated times, e.g. {repeated}")
    times = times.sort_values()
    if times.tz is not None:
        times = times.tz_convert("UTC").tz_localize(None)
    times = times.as_unit("ns")
    start = times[0].floor("D")
    block_ns = config.block_length.as_unit("ns").value
    offset = (times - start).asi8
    block = offset // block_ns
    pattern = np.asarray(config.pattern, dtype=object)
    split = pattern[block % len(pattern)]
    previous = pattern[(block - 1) % len(pattern)]
    in_gap = (
        (block > 0)
        & (split != previous)
        & (offset - block * block_ns < config.gap_length.as_unit("ns").value)
    )
    split = np.where(in_gap, GAP, split)
    table = pd.DataFrame(
        {
            "time": times.values.astype("datetime64[ns]"),
            "block": block.astype(np.int64),
            "split": split.astype(str),
        }
    )
    empty = [s for s in SPLITS if not (table["split"] == s).any()]
    if empty:
        raise ValueError(
            f"make_split: the period {times[0]} – {times[-1]} gives no time to {empty} with "
            f"blocks of {config.block}, gap {config.gap} and pattern {list(config.pattern)}: "
            "shorten training.split.block or lengthen the period"
        )
    return table


def split_times(split_table: pd.DataFrame, name: str) -> pd.DatetimeIndex:
    """The times of one split, in time order.

    Args:
        split_table: The table of :func:`make_split` (``training_split``).
        name: ``train``, ``validation``, ``test`` or ``gap``.

    Returns:
        Its times.

    Raises:
        ValueError: ``name`` is not a split.
    """
    if name not in (*SPLITS, GAP):
        raise ValueError(f"split_times: unknown split {name!r} (known: {[*SPLITS, GAP]})")
    chosen = split_table.loc[split_table["split"] == name, "time"]
    return pd.DatetimeIndex(np.sort(chosen.values), name="time")
