"""Nodes of the ``demo`` pipeline."""

from __future__ import annotations

from typing import Any

from rainscore.grids import Box
from rainscore.synthetic import SyntheticWorld, WorldConfig


def build_world(demo: dict[str, Any], box: dict[str, float]) -> SyntheticWorld:
    """Describe the synthetic world to write (the catalog dataset writes its files).

    Args:
        demo: ``params:demo`` (start, days, seed, IMERG run and version, radar margin).
        box: ``params:box``, the analysis box.

    Returns:
        The world, ready to be written by ``SyntheticWorldDataset``.
    """
    config = WorldConfig.from_dict({**demo, "box": Box.from_dict(box)})
    return SyntheticWorld(config)
