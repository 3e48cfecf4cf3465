"""Nodes of the ``demo`` pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from rainscore.grids import Box
from rainscore.synthetic import SyntheticWorld, WorldConfig

#: The kinds of files in a world's manifest that the analysis reads, by output of
#: :func:`write_world` (catalog ``imerg_raw``, ``radar_raw``, ``demo_truth_optional``).
RAW_KINDS = ("imerg", "radar", "truth")


def write_world(
    demo: dict[str, Any], box: dict[str, float], demo_world_root: str, area_weights: str
) -> dict[str, pd.DataFrame | list[str]]:
    """Simulate the synthetic world and write its files in the real formats.

    The truth is streamed frame by frame (memory stays flat however long the world), each
    radar, IMERG and truth file is written atomically under ``demo_world_root``, and a
    previous world there is replaced. The paths written of each kind the analysis reads
    are outputs too: saving them to the raw datasets checks that those list them (and the
    lineage shows that the demo makes them).

    Args:
        demo: ``params:demo`` (start, days, seed, IMERG run and version, radar margin).
        box: ``params:box``, the analysis box.
        demo_world_root: The world's raw folder (catalog ``demo_world_root``).
        area_weights: The area-weights cache folder (catalog ``area_weights``), shared with
            the colocation so the radar window's weights are computed once.

    Returns:
        ``manifest``: the manifest of the files written (saved as ``demo_world``); for each
        kind of :data:`RAW_KINDS`, the sorted paths of the files of that kind.
    """
    config = WorldConfig.from_dict({**demo, "box": Box.from_dict(box)})
    manifest = SyntheticWorld(config).write(demo_world_root, cache_dir=area_weights)
    root = Path(demo_world_root)
    return {
        "manifest": manifest,
        **{
            kind: sorted(str(root / p) for p in manifest.loc[manifest["kind"] == kind, "path"])
            for kind in RAW_KINDS
        },
    }
