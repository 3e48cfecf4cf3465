"""A failed check of an output (``map_scores``, ``radar_on_imerg``) leaves the previous
version the latest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from kedro.io import DataCatalog
from kedro.runner import SequentialRunner

from rainscore.pipelines.scoring.pipeline import create_pipeline
from rainscore.validation import ValidationError

SCORING = {"validation": {"min_target_defined": 0.5}}
TARGET = {"score": "fss_t1.0_w5"}


def _scores(pearson_last: float) -> pd.DataFrame:
    times = pd.date_range("2024-06-10", periods=10, freq="30min", name="time")
    return pd.DataFrame(
        {
            "n_valid": np.full(10, 100.0),
            "fss_t1.0_w5": np.linspace(0.1, 0.9, 10),
            "pearson": np.r_[np.full(9, 0.5), pearson_last],
        },
        index=times,
    )


def _run(tmp_path, scores: pd.DataFrame) -> DataCatalog:
    catalog = DataCatalog.from_config(
        {
            "map_scores": {
                "type": "rainscore.datasets.ParquetTableDataset",
                "filepath": str(tmp_path / "map_scores.parquet"),
                "versioned": True,
            },
            "map_scores_validation": {
                "type": "json.JSONDataset",
                "filepath": str(tmp_path / "map_scores_validation.json"),
                "versioned": True,
            },
        }
    )
    catalog["map_score_values"] = scores
    catalog["map_features"] = pd.DataFrame({"hour": 0.0}, index=scores.index)
    catalog["params:scoring"] = SCORING
    catalog["params:target"] = TARGET
    pipeline = (
        create_pipeline()
        .from_inputs("map_score_values", "map_features")
        .to_outputs("map_scores", "map_scores_validation")
    )
    SequentialRunner().run(pipeline, catalog)
    return catalog


def test_failed_score_suite_keeps_the_previous_map_scores(tmp_path) -> None:
    _run(tmp_path, _scores(0.7))
    first = sorted((tmp_path / "map_scores.parquet").iterdir())
    assert len(first) == 1

    with pytest.raises(ValidationError, match="pearson"):
        _run(tmp_path, _scores(1.5))  # a correlation above 1: the suite fails

    assert sorted((tmp_path / "map_scores.parquet").iterdir()) == first
    reports = sorted((tmp_path / "map_scores_validation.json").iterdir())
    assert len(reports) == 2  # the failing report is written for a person to read
    catalog = DataCatalog.from_config(
        {
            "map_scores": {
                "type": "rainscore.datasets.ParquetTableDataset",
                "filepath": str(tmp_path / "map_scores.parquet"),
                "versioned": True,
            }
        }
    )
    assert catalog.load("map_scores")["pearson"].max() == pytest.approx(0.7)


def test_failed_colocation_suite_keeps_the_previous_radar_on_imerg(project) -> None:
    """A radar grid that fails the colocation suite is not written as ``radar_on_imerg``."""
    from rainscore.pipeline_registry import register_pipelines

    project.run("ingestion")
    catalog = project.run("colocation")
    folder = Path(project.config["radar_on_imerg"]["filepath"])
    first = sorted(folder.iterdir())
    assert len(first) == 1
    good = catalog.load("radar_on_imerg").load()

    pipeline = register_pipelines()["colocation"]
    catalog = project.catalog()
    shifted = good.assign_coords(lat=np.round(good.lat.values + 0.05, 6))
    catalog["radar_on_imerg_unchecked"] = shifted  # a half-cell shift sneaks in
    catalog["radar_on_imerg_kept"] = 0  # the whole period colocated again
    with pytest.raises(ValidationError, match=r"lat_identical failed"):
        SequentialRunner().run(
            pipeline.only_nodes(
                "colocation.validate_colocation", "colocation.accept_radar_on_imerg"
            ),
            catalog,
        )
    assert sorted(folder.iterdir()) == first
    assert catalog.load("colocation_validation")["success"] is False
    xr.testing.assert_identical(project.catalog().load("radar_on_imerg").load(), good)
