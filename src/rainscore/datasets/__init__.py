"""Kedro catalog datasets of the project (the only part of the package, with the
pipelines, that imports Kedro)."""

from rainscore.datasets.folder import FolderDataset
from rainscore.datasets.model_artefact import ModelArtefactDataset
from rainscore.datasets.netcdf import XarrayNetCDFDataset, write_netcdf_atomic
from rainscore.datasets.optional import OptionalDataset
from rainscore.datasets.parquet import ParquetTableDataset
from rainscore.datasets.raw import RawFilesDataset, SyntheticWorldDataset
from rainscore.datasets.versions import (
    VersionedJSONDataset,
    VersionedMatplotlibDataset,
    VersionedTextDataset,
)
from rainscore.datasets.zarr import XarrayZarrDataset, export_netcdf

__all__ = [
    "FolderDataset",
    "ModelArtefactDataset",
    "OptionalDataset",
    "ParquetTableDataset",
    "RawFilesDataset",
    "SyntheticWorldDataset",
    "VersionedJSONDataset",
    "VersionedMatplotlibDataset",
    "VersionedTextDataset",
    "XarrayNetCDFDataset",
    "XarrayZarrDataset",
    "export_netcdf",
    "write_netcdf_atomic",
]
