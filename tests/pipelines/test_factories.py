"""The test factories (``rainscore.testing``) build what the pipelines write.

One tiny real run (ingestion → colocation → scoring through the project's catalog) is the
reference: each factory's product has the same variables (the order on disk is the
store's), dims, dtypes, variable and coordinate attributes, global attribute names and the
values of those that do not depend on the run; the score table the same columns in the same
order, dtypes and index. A change of a pipeline's output that the factories do not follow
fails here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.grids import Box
from rainscore.testing import fake_imerg_cube, fake_map_scores, fake_pairs, fake_radar_on_imerg

#: Global attributes whose values depend on the run (files, folders, box, counts).
RUN_SPECIFIC = {
    "box",
    "source_files",
    "source_root",
    "imerg_source_root",
    "missing_times",
    "n_missing_times",
    "n_scored_cells",
}


@pytest.fixture(scope="module")
def real_outputs(module_project) -> dict[str, Any]:
    module_project.run("ingestion")
    module_project.run("colocation")
    catalog = module_project.run("scoring")
    out: dict[str, Any] = {
        name: catalog.load(name).load()
        for name in ("imerg_cube", "radar_on_imerg", "colocated_pairs")
    }
    out["map_scores"] = catalog.load("map_scores")
    return out


def _plain(attrs: dict) -> dict:
    """Attributes with numpy scalars and arrays as Python values (netCDF gives numpy)."""
    return {k: np.asarray(v).tolist() for k, v in attrs.items()}


def _variables(ds: xr.Dataset, names) -> dict[str, tuple]:
    return {name: (ds[name].dims, str(ds[name].dtype), _plain(ds[name].attrs)) for name in names}


@pytest.mark.parametrize(
    ("name", "factory"),
    [
        ("imerg_cube", fake_imerg_cube),
        ("radar_on_imerg", fake_radar_on_imerg),
        ("colocated_pairs", fake_pairs),
    ],
)
def test_gridded_factory_matches_the_pipeline(real_outputs, tiny_box, name, factory) -> None:
    fake = factory(n_times=2, seed=0, box=Box.from_dict(tiny_box))
    real = real_outputs[name]
    assert sorted(fake.data_vars) == sorted(real.data_vars)
    for variable, schema in _variables(real, real.data_vars).items():
        assert _variables(fake, [variable])[variable] == schema, f"{name}.{variable}"
    assert _variables(fake, fake.coords) == _variables(real, real.coords)
    assert sorted(fake.attrs) == sorted(real.attrs)
    same = [k for k in real.attrs if k not in RUN_SPECIFIC]
    assert _plain({k: fake.attrs[k] for k in same}) == _plain({k: real.attrs[k] for k in same})


def test_score_table_factory_matches_the_pipeline(real_outputs) -> None:
    real = real_outputs["map_scores"]
    fake = fake_map_scores(n_times=3, seed=0)
    assert list(fake.columns) == list(real.columns)
    pd.testing.assert_series_equal(fake.dtypes, real.dtypes)
    assert fake.index.name == real.index.name == "time"
    assert fake.index.dtype == real.index.dtype
