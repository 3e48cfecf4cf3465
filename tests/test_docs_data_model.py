"""``docs/data-model.md`` lists every variable of the gridded stores with its units.

The stores' variables come from the factories of ``rainscore.testing``, which
``tests/pipelines/test_factories.py`` keeps identical to the pipelines' outputs; the page's
tables must name the same variables, dims and units.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr

from rainscore.analysis import local_error_blocks
from rainscore.grids import Box
from rainscore.testing import fake_imerg_cube, fake_pairs, fake_radar_on_imerg

PAGE = Path(__file__).resolve().parents[1] / "docs" / "data-model.md"
BOX = Box(45.0, 46.0, 1.0, 2.5)


def _local_error_maps() -> xr.Dataset:
    blocks = local_error_blocks(
        fake_pairs(2, box=BOX), threshold=0.5, window=9, attrs={"target_score": "fss_t0.5_w9"}
    )
    return xr.concat(list(blocks), dim="time")


STORES = {
    "imerg_cube": lambda: fake_imerg_cube(2, box=BOX),
    "radar_on_imerg": lambda: fake_radar_on_imerg(2, box=BOX),
    "colocated_pairs": lambda: fake_pairs(2, box=BOX),
    "local_error_maps": _local_error_maps,
}


def documented(store: str) -> dict[str, tuple[str, str]]:
    """Variable → (dims, units) from the table under the heading ``### `store```."""
    section = PAGE.read_text().split(f"### `{store}`\n", 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], cells[2])
    return rows


@pytest.mark.parametrize("store", sorted(STORES))
def test_every_variable_is_documented_with_its_units(store: str) -> None:
    data = STORES[store]()
    actual = {
        name: (", ".join(data[name].dims), data[name].attrs.get("units") or "–")
        for name in data.data_vars
    }
    assert documented(store) == actual, f"docs/data-model.md, {store}: table differs"


def test_the_table_parser_reads_rows() -> None:
    rows = documented("local_error_maps")
    assert rows["abs_error"] == ("time, lat, lon", "mm/h")
