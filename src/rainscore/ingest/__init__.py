"""Ingestion: raw IMERG granules → an IMERG cube over the box; radar files → an inventory.

Built on the readers of :mod:`rainscore.io`; no Kedro imports. Incremental: given the
previous cube or inventory, only new or changed files are read.
"""

from rainscore.ingest.config import IngestionConfig
from rainscore.ingest.imerg_cube import ImergCubeBlocks, build_imerg_cube
from rainscore.ingest.parallel import FileResult, map_files
from rainscore.ingest.radar_inventory import INVENTORY_COLUMNS, build_radar_inventory
from rainscore.ingest.report import ingestion_report

__all__ = [
    "INVENTORY_COLUMNS",
    "FileResult",
    "ImergCubeBlocks",
    "IngestionConfig",
    "build_imerg_cube",
    "build_radar_inventory",
    "ingestion_report",
    "map_files",
]
