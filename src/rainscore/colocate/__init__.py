"""Streaming colocation of radar frames with the IMERG grid (no Kedro imports).

Radar files are read in time order, each frame regridded onto the IMERG 0.1° cells as soon
as it is read (:mod:`rainscore.grids.regrid`) and accumulated into its half hour. Work is
split into time blocks that run with the executor of :mod:`rainscore.execution`
(sequentially, in threads, in local processes or on a Dask cluster), with identical results.
"""

from rainscore.colocate.accumulate import HalfHourSums
from rainscore.colocate.block import BadFrame, ColocationError, rate_factor
from rainscore.colocate.config import ColocationConfig
from rainscore.colocate.distributed import WorkerColocation, colocation_writer
from rainscore.colocate.engine import (
    ColocationPlan,
    ColocationResult,
    ColocationStream,
    colocate_radar,
    default_reader,
    iter_colocation,
    plan_colocation,
)
from rainscore.colocate.frames import FrameModel, frame_model
from rainscore.colocate.incremental import continued, resume_time
from rainscore.colocate.pairing import (
    ACCUMULATION,
    HALF_HOUR,
    RATE,
    half_hours,
    on_frame_lattice,
    pair_frames,
    paired_half_hour,
)

__all__ = [
    "ACCUMULATION",
    "HALF_HOUR",
    "RATE",
    "BadFrame",
    "ColocationConfig",
    "ColocationError",
    "ColocationPlan",
    "ColocationResult",
    "ColocationStream",
    "FrameModel",
    "HalfHourSums",
    "WorkerColocation",
    "colocate_radar",
    "colocation_writer",
    "continued",
    "default_reader",
    "frame_model",
    "half_hours",
    "iter_colocation",
    "on_frame_lattice",
    "pair_frames",
    "paired_half_hour",
    "plan_colocation",
    "rate_factor",
    "resume_time",
]
