"""Nodes of the ``demo`` pipeline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from rainscore.grids import Box
from rainscore.synthetic import SyntheticWorld, WorldConfig


def write_world(
    demo: dict[str, Any], box: dict[str, float], demo_world_root: str, area_weights: str
) -> pd.DataFrame:
    """Simulate the synthetic world and write its files in the real formats.

    The truth is streamed frame by frame (memory stays flat however long the world), each
    radar, IMERG and truth file is written atomically under ``demo_world_root``, and a
    previous world there is replaced.

    Args:
        demo: ``params:demo`` (start, days, seed, IMERG run and version, radar margin).
        box: ``params:box``, the analysis box.
        demo_world_root: The world's raw folder (catalog ``demo_world_root``).
        area_weights: The area-weights cache folder (catalog ``area_weights``), shared with
            the colocation so the radar window's weights are computed once.

    Returns:
        The manifest of the files written (saved as ``demo_world``).
    """
    config = WorldConfig.from_dict({**demo, "box": Box.from_dict(box)})
    return SyntheticWorld(config).write(demo_world_root, cache_dir=area_weights)
