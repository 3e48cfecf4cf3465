"""Incremental colocation: which half hours of the previous run's output can be kept.

The radar on the IMERG grid of a half hour depends only on the radar frames paired with it
(``docs/colocation.md``, Radar frames: accumulations ending up to the half hour's end plus
the lag, rate snapshots up to that time), never on later data, once all of them are there.
A rerun over a longer period therefore keeps the previous run's half hours and colocates
only those after them, except the trailing half hours that had fewer frames than a
complete one (their last frames may have arrived since); the previous run's last half hour
is always colocated again, so that a rerun without new data still writes its scratch store.
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from rainscore.colocate.engine import ColocationPlan

logger = logging.getLogger(__name__)

KEY_ATTRS = ("lag_minutes", "frame_kind", "frame_minutes", "frames_per_half_hour", "box", "crs")
"""Attributes that must be the same for the previous run's half hours to be kept."""


def resume_time(previous: xr.Dataset | None, plan: ColocationPlan) -> np.datetime64 | None:
    """The first half hour to colocate when ``previous`` is continued, or ``None`` when
    nothing of it can be kept (colocate ``plan``'s whole period).

    ``previous`` (the last ``radar_on_imerg``, read lazily: only ``time``, ``n_frames`` and
    the attributes are read) is continued when it was made with the same frame model, lag
    and box as ``plan`` and its half hours are the first of ``plan``'s period. Its half
    hours are kept up to the last one that had all its frames, and at most up to the one
    before its last.

    Late or replaced radar files of a kept half hour are not seen: remove the previous
    versions to colocate the whole period again (``docs/architecture.md``, Incremental runs).

    Args:
        previous: The previous run's output, or ``None``.
        plan: This run's colocation (its whole period).

    Returns:
        The first half hour this run colocates (those before it are kept), or ``None``.
    """
    if previous is None or previous.sizes.get("time", 0) == 0 or not len(plan.times):
        return None
    expected = plan.empty().attrs
    changed = [k for k in KEY_ATTRS if str(previous.attrs.get(k)) != str(expected.get(k))]
    if changed:
        logger.info(
            "Colocating the whole period: the previous radar_on_imerg differs in %s", changed
        )
        return None
    times = previous["time"].values
    if times.size > plan.times.size or not np.array_equal(times, plan.times[: times.size]):
        logger.info(
            "Colocating the whole period: the previous radar_on_imerg (%s … %s) does not "
            "start this run's period (%s … %s)",
            times[0],
            times[-1],
            plan.times[0],
            plan.times[-1],
        )
        return None
    complete = previous["n_frames"].values >= int(expected["frames_per_half_hour"])
    kept = int(np.flatnonzero(complete).max(initial=-1)) + 1
    kept = min(kept, times.size - 1)
    if kept == 0:
        return None
    logger.info(
        "Keeping %d half hours of the previous radar_on_imerg (to %s); colocating from %s",
        kept,
        times[kept - 1],
        times[kept],
    )
    return times[kept]


def continued(previous: xr.Dataset | None, n_kept: int, colocated: xr.Dataset) -> xr.Dataset:
    """The period a continued output holds: ``previous``'s first ``n_kept`` half hours, then
    ``colocated`` (lazily, if both are lazy); ``colocated`` alone when nothing is kept.

    Raises:
        ValueError: ``n_kept`` half hours kept without a previous output holding them.
    """
    if n_kept == 0:
        return colocated
    if previous is None or previous.sizes["time"] < n_kept:
        raise ValueError(
            f"{n_kept} half hours of the previous radar_on_imerg kept, but it holds "
            f"{0 if previous is None else previous.sizes['time']}"
        )
    kept = previous.isel(time=slice(0, n_kept))
    return xr.concat([kept, colocated], dim="time", data_vars="minimal", combine_attrs="override")
