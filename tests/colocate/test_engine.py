"""The streaming colocation engine, end to end on Météo-France-layout files."""

from __future__ import annotations

import datetime as dt
import functools
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.colocate import ColocationConfig, ColocationError, colocate_radar, iter_colocation
from rainscore.grids import ProjectedGrid
from rainscore.grids.regrid import AreaWeights
from rainscore.io import open_radar

T0 = dt.datetime(2023, 6, 1, 12, 0)


def minutes(m: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=m)


def run(inventory, box, tmp_path, **params):
    return colocate_radar(
        inventory, box, cache_dir=tmp_path / "weights", config=ColocationConfig(**params)
    )


def rainy_field(grid, seed: int) -> np.ndarray:
    """Smooth positive rain (mm in 5 min) with zeros and a hole outside coverage."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : grid.ny, 0 : grid.nx]
    field = rng.gamma(0.8, 0.3) * (1.0 + np.sin(xx / (4.0 + seed)) * np.cos(yy / 7.0))
    field[field < 0.3] = 0.0
    field[: 10 + seed, : 15 + 2 * seed] = np.nan
    return field


def test_frames_pair_with_their_half_hours(series, box, tmp_path):
    for k in range(1, 25):  # 12:05 ... 14:00, frame k holds k/100 mm everywhere
        series.add(minutes(5 * k), k / 100)
    ds = run(series.inventory(), box, tmp_path).dataset
    expected_times = pd.date_range("2023-06-01T12:00", periods=4, freq="30min")
    np.testing.assert_array_equal(ds.time.values, expected_times.values)
    # Half hour h holds frames 6h+1 ... 6h+6: mean k = 6h + 3.5, rate = 12 k/100 mm/h.
    for h in range(4):
        np.testing.assert_allclose(ds.rain[h].values, 0.12 * (6 * h + 3.5), rtol=1e-5)
    np.testing.assert_array_equal(ds.n_frames.values, 6)
    np.testing.assert_array_equal(ds.valid_fraction.values, 1.0)


def test_a_lag_shifts_the_pairing(series, box, tmp_path):
    for k in range(1, 13):
        series.add(minutes(5 * k), k / 100)
    ds = run(series.inventory(), box, tmp_path, lag_minutes=30).dataset
    # The IMERG half hour 11:30 gets the radar frames of 12:00-12:30.
    assert ds.time.values[0] == np.datetime64("2023-06-01T11:30")
    np.testing.assert_allclose(ds.rain[0].values, 0.12 * 3.5, rtol=1e-5)
    np.testing.assert_allclose(ds.rain[1].values, 0.12 * 9.5, rtol=1e-5)
    assert ds.attrs["lag_minutes"] == 30


def test_rain_uses_only_the_frames_valid_at_each_cell(series, box, grid, tmp_path):
    _, lat = grid.lonlat()
    north = lat > 46.33  # cell rows 3-4 (46.3-46.5 N): row 4 wholly, row 3 in part
    for k in range(1, 7):
        field = np.full(grid.shape, 0.1 if k <= 3 else 0.2)
        if k > 3:
            field[north] = np.nan  # the last three frames see nothing in the north
        series.add(minutes(5 * k), field)
    ds = run(series.inventory(), box, tmp_path).dataset
    rain, fraction = ds.rain[0].values, ds.valid_fraction[0].values
    np.testing.assert_allclose(rain[:2], 1.8, rtol=1e-5)  # mean of 1.2 ×3 and 2.4 ×3
    np.testing.assert_allclose(fraction[:2], 1.0)
    np.testing.assert_allclose(rain[4], 1.2, rtol=1e-5)  # only the first three frames
    np.testing.assert_allclose(fraction[4], 0.5)  # (3 × 1 + 3 × 0) / 6
    assert np.all((fraction[3] > 0.5) & (fraction[3] < 1.0))
    assert ds.n_frames.values[0] == 6
    n_valid = ds.n_valid_frames[0].values
    np.testing.assert_array_equal(n_valid[:3], 6)  # every frame valid in the south
    np.testing.assert_array_equal(n_valid[4], 3)  # rain[4] is the mean of three frames
    assert ds.n_valid_frames.dims == ("time", "lat", "lon")
    assert ds.attrs["crs"] == "EPSG:4326"


def test_missing_and_bad_files_count_as_missing_frames(series, box, tmp_path):
    for k in (1, 2, 4, 5):  # 12:15 never arrived
        series.add(minutes(5 * k), k / 100)
    garbage = series.add(minutes(30), 0.5)
    garbage.write_bytes(b"\x89HDF\r\n\x1a\n not really")
    inventory = series.inventory()
    skipped = series.folder / "RADAR_ALREADY_BAD.h5"  # flagged by ingestion: never opened
    inventory.loc[len(inventory)] = {**inventory.iloc[0].to_dict(), "path": str(skipped)}
    inventory.loc[len(inventory) - 1, "status"] = "bad"
    result = run(inventory, box, tmp_path)
    ds = result.dataset
    assert ds.n_frames.values.tolist() == [4]
    np.testing.assert_allclose(ds.rain[0].values, 0.12 * 3.0, rtol=1e-5)  # k = 1, 2, 4, 5
    np.testing.assert_allclose(ds.valid_fraction[0].values, 4 / 6, rtol=1e-6)
    assert [(b.path, b.reason, b.outcome) for b in result.bad_frames] == [
        (str(garbage), "unreadable", "skipped")
    ]
    assert "ReaderError" in result.bad_frames[0].error
    table = result.bad_frames_table()
    assert table.columns.tolist() == ["path", "error", "reason", "outcome"]
    assert table["path"].tolist() == [str(garbage)]


def test_strict_mode_stops_at_a_bad_file(series, box, tmp_path):
    series.add(minutes(5), 0.1)
    bad = series.add(minutes(10), 0.1)
    bad.write_bytes(b"")
    with pytest.raises(ColocationError, match=f"{bad}: empty: ReaderError"):
        run(series.inventory(), box, tmp_path, strict=True)


def test_inconsistent_files_are_recorded(series, box, tmp_path):
    a = series.add(minutes(5), 0.1)
    b = series.add(minutes(10), 0.1)
    series.add(minutes(15), 0.1)
    inventory = series.inventory()
    inventory.loc[inventory["path"] == str(a), "grid_id"] = "0123456789abcdef"
    inventory.loc[inventory["path"] == str(b), "end_time"] = pd.Timestamp(minutes(20))
    result = run(inventory, box, tmp_path)
    errors = {frame.path: frame.error for frame in result.bad_frames}
    assert "is not the inventory's 0123456789abcdef" in errors[str(a)]
    assert "the frame ends at 2023-06-01T12:10" in errors[str(b)]
    assert {frame.reason for frame in result.bad_frames} == {"inconsistent"}
    assert result.dataset.n_frames.values.tolist() == [1]


def test_the_numbers_are_the_regridded_frames(series, box, grid, tmp_path):
    paths = [series.add(minutes(5 * k), rainy_field(grid, k)) for k in range(1, 7)]
    ds = run(series.inventory(), box, tmp_path).dataset
    weights = AreaWeights.build(grid, box)
    rates, fractions = [], []
    for path in paths:
        mean, fraction = weights.regrid(open_radar(path).values.astype(np.float64))
        rates.append(mean * 12.0)
        fractions.append(fraction)
    np.testing.assert_allclose(ds.rain[0].values, np.nanmean(rates, axis=0), rtol=1e-5)
    np.testing.assert_allclose(ds.valid_fraction[0].values, np.mean(fractions, axis=0), atol=1e-6)
    assert ds.valid_fraction[0].values[-1, 0] < 0.9  # the holes are in the north-west


def test_output_conventions_and_an_explicit_period(series, box, tmp_path):
    series.add(minutes(35), 0.1)
    result = colocate_radar(
        series.inventory(),
        box,
        cache_dir=tmp_path / "weights",
        config=ColocationConfig(),
        start=pd.Timestamp("2023-06-01T11:00"),
        end=pd.Timestamp("2023-06-01T13:30"),
    )
    ds = result.dataset
    assert ds.rain.dims == ds.valid_fraction.dims == ("time", "lat", "lon")
    assert ds.n_frames.dims == ("time",)
    assert ds.time.size == 5  # 11:00 ... 13:00, regular, without gaps
    np.testing.assert_array_equal(ds.lat.values, box.lat)
    np.testing.assert_array_equal(ds.lon.values, box.lon)
    assert ds.lat.dtype == np.float64
    assert ds.time.dtype == np.dtype("datetime64[ns]")
    assert ds.rain.attrs["units"] == "mm/h"
    assert ds.valid_fraction.attrs["units"] == "1"
    assert "long_name" in ds.rain.attrs and "long_name" in ds.n_frames.attrs
    assert ds.n_frames.values.tolist() == [0, 0, 0, 1, 0]
    assert np.isnan(ds.rain.values[[0, 1, 2, 4]]).all()
    np.testing.assert_allclose(ds.valid_fraction.values[3], 1 / 6, rtol=1e-6)
    assert json.loads(ds.attrs["box"]) == box.to_dict()


def test_blocks_stream_and_do_not_change_the_numbers(series, box, grid, tmp_path):
    for k in range(1, 19):
        series.add(minutes(5 * k), rainy_field(grid, k % 5))
    inventory = series.inventory()
    config = ColocationConfig(block_half_hours=1)
    blocks = list(iter_colocation(inventory, box, cache_dir=tmp_path / "w", config=config))
    assert [b.dataset.time.size for b in blocks] == [1, 1, 1]
    whole = run(inventory, box, tmp_path, block_half_hours=48).dataset
    xr.testing.assert_identical(xr.concat([b.dataset for b in blocks], dim="time"), whole)


def test_an_inventory_without_the_needed_columns_is_refused(box, tmp_path):
    with pytest.raises(ValueError, match=r"lacks the columns \['status'\]"):
        run(pd.DataFrame({"path": [], "end_time": []}), box, tmp_path)


def test_an_empty_inventory_gives_an_empty_dataset(series, box, tmp_path):
    ds = run(series.inventory(), box, tmp_path).dataset
    assert ds.rain.shape == (0, *box.shape)


def multi_frame_reader(path: str) -> xr.DataArray:
    """Three 5-minute frames in one file, like a MeteoNet archive (1, 2, 3 mm)."""
    one = open_radar(path)
    ends = one["time"].values + np.array([0, 5, 10], dtype="timedelta64[m]")
    values = np.stack([np.full(one.shape, v, np.float32) for v in (1.0, 2.0, 3.0)])
    return xr.DataArray(
        values,
        dims=("time", "y", "x"),
        coords={"time": ends},
        attrs=one.attrs,
    )


def colocate_multi_frame_file(series, box, tmp_path, reader, block_half_hours=1):
    """One file whose frames end 12:25, 12:30 (half hour 12:00) and 12:35 (12:30)."""
    series.add(minutes(25), 0.0)
    inventory = series.inventory()
    inventory["end_time"] = pd.Timestamp(minutes(35))
    inventory["start_time"] = pd.Timestamp(minutes(20))
    return colocate_radar(
        inventory,
        box,
        cache_dir=tmp_path / "weights",
        config=ColocationConfig(block_half_hours=block_half_hours),
        reader=reader,
    )


def test_a_multi_frame_file_is_split_between_half_hours(series, box, tmp_path):
    result = colocate_multi_frame_file(series, box, tmp_path, multi_frame_reader)
    ds = result.dataset
    assert result.bad_frames == []
    assert ds.n_frames.values.tolist() == [2, 1]
    np.testing.assert_allclose(ds.rain[0].values, 18.0, rtol=1e-6)  # (12 + 24) / 2
    np.testing.assert_allclose(ds.rain[1].values, 36.0, rtol=1e-6)


def multi_frame_reader_with_impossible(path: str) -> xr.DataArray:
    """:func:`multi_frame_reader` whose file had 7 impossible values (a count per file)."""
    return multi_frame_reader(path).assign_attrs(n_impossible=7)


@pytest.mark.parametrize("block_half_hours", [1, 48])
def test_a_multi_frame_file_counts_its_impossible_values_once(
    series, box, tmp_path, block_half_hours
):
    ds = colocate_multi_frame_file(
        series, box, tmp_path, multi_frame_reader_with_impossible, block_half_hours
    ).dataset
    assert ds.n_impossible.values.tolist() == [7, 0]  # at its first frame, whatever the blocks


def window_reader(path: str, window: tuple[slice, slice]) -> xr.DataArray:
    """The file's frame cropped to ``window``, georeferenced as that window of its grid."""
    full = open_radar(path)
    grid = ProjectedGrid.from_dict(json.loads(full.attrs["grid"]))
    return full.isel(y=window[0], x=window[1]).assign_attrs(
        grid=json.dumps(grid.window(*window).to_dict())
    )


def test_reading_only_the_window_of_the_box_gives_the_same_numbers(series, box, grid, tmp_path):
    for k in range(1, 7):
        series.add(minutes(5 * k), rainy_field(grid, k))
    inventory = series.inventory()
    full = run(inventory, box, tmp_path).dataset
    window = AreaWeights.build(grid, box).window
    assert (window[0].stop - window[0].start) * (
        window[1].stop - window[1].start
    ) < grid.nx * grid.ny
    cropped = colocate_radar(
        inventory.drop(columns=["grid_id", "grid"]),  # frames come on the window grid
        box,
        cache_dir=tmp_path / "weights",
        config=ColocationConfig(),
        reader=functools.partial(window_reader, window=window),
    ).dataset
    xr.testing.assert_allclose(cropped, full, rtol=1e-6)


class WindowSpy:
    """:func:`open_radar`, recording the windows it is asked for."""

    def __init__(self) -> None:
        self.windows: list = []

    def __call__(self, path: str, window: tuple[slice, slice] | None = None) -> xr.DataArray:
        self.windows.append(window)
        return open_radar(path, window=window)


def test_window_reads_give_the_numbers_of_whole_frames(series, box, grid, tmp_path):
    for k in range(1, 13):
        series.add(minutes(5 * k), rainy_field(grid, k % 4))
    inventory = series.inventory()
    whole = run(inventory, box, tmp_path, read_window=False, block_half_hours=1)
    spy = WindowSpy()
    windowed = colocate_radar(
        inventory,
        box,
        cache_dir=tmp_path / "weights",
        config=ColocationConfig(block_half_hours=1),
        reader=spy,
    )
    xr.testing.assert_identical(windowed.dataset, whole.dataset)
    assert windowed.bad_frames == whole.bad_frames == []
    rows, cols = window = AreaWeights.build(grid, box).window
    assert spy.windows == [window] * 12
    assert (rows.stop - rows.start) * (cols.stop - cols.start) < 0.9 * grid.nx * grid.ny
    # The default reader reads windows too, with the same numbers.
    xr.testing.assert_identical(run(inventory, box, tmp_path).dataset, whole.dataset)


def test_a_file_on_another_grid_is_caught_when_reading_a_window(series, box, grid, tmp_path):
    """A taller file has the same window of the box: only its whole grid tells it apart."""
    taller = ProjectedGrid(
        crs=grid.crs,
        nx=grid.nx,
        ny=grid.ny + 4,
        x_min=grid.x_min,
        y_max=grid.y_max,
        dx=grid.dx,
        dy=grid.dy,
    )
    series.add(minutes(5), 0.1)
    odd = series.add(minutes(10), 0.1, grid=taller)
    spy = WindowSpy()
    result = colocate_radar(
        series.inventory(),
        box,
        cache_dir=tmp_path / "weights",
        config=ColocationConfig(),
        reader=spy,
    )
    assert spy.windows[0] == spy.windows[1] == AreaWeights.build(grid, box).window
    assert [b.path for b in result.bad_frames] == [str(odd)]
    assert (
        f"the file's grid {taller.grid_id} is not the inventory's {grid.grid_id}"
        in result.bad_frames[0].error
    )
    assert result.dataset.n_frames.values.tolist() == [1]


def test_a_window_reader_must_name_the_file_grid(series, box, tmp_path):
    series.add(minutes(5), 0.1)

    def forgetful(path: str, window: tuple[slice, slice] | None = None) -> xr.DataArray:
        da = open_radar(path, window=window)
        del da.attrs["file_grid_id"]
        return da

    result = colocate_radar(
        series.inventory(),
        box,
        cache_dir=tmp_path / "weights",
        config=ColocationConfig(),
        reader=forgetful,
    )
    assert "gave no 'file_grid_id' attribute" in result.bad_frames[0].error


def test_impossible_values_are_counted_per_half_hour_and_never_averaged(
    series, box, grid, tmp_path
):
    centre = (grid.ny // 2, grid.nx // 2)
    for k in range(1, 13):  # two half hours of 0.1 mm frames (1.2 mm/h)
        field = np.full(grid.shape, 0.1)
        if k == 2:
            field[centre[0] : centre[0] + 2, centre[1] : centre[1] + 2] = 30.0  # 360 mm/h
        if k == 9:
            field[centre] = 26.0  # 312 mm/h
        series.add(minutes(5 * k), field)
    ds = run(series.inventory(), box, tmp_path).dataset
    assert ds["n_impossible"].values.tolist() == [4, 1]
    assert ds["n_impossible"].dims == ("time",)
    np.testing.assert_allclose(ds.rain.values, 1.2, rtol=1e-5)  # masked, not averaged
    assert float(ds.valid_fraction.min()) < 1.0  # the masked pixels lower the cover


def test_a_stream_of_blocks_writes_the_whole_period_store_and_collects_bad_frames(
    series, box, grid, tmp_path, caplog
):
    from rainscore.colocate import ColocationStream
    from rainscore.stores import open_store, write_store

    for k in range(1, 19):
        if k not in (9, 13):  # 12:45 never arrived, 13:05 is garbage: two short half hours
            series.add(minutes(5 * k), rainy_field(grid, k % 5))
    garbage = series.add(minutes(65), 0.5)
    garbage.write_bytes(b"\x89HDF\r\n\x1a\n not really")
    inventory = series.inventory()
    config = ColocationConfig(block_half_hours=1)
    stream = ColocationStream(
        iter_colocation(inventory, box, cache_dir=tmp_path / "w", config=config)
    )
    assert stream.bad_frames == []  # nothing runs before the store consumes the blocks
    with caplog.at_level("WARNING", logger="rainscore.colocate.engine"):
        assert write_store(tmp_path / "radar.zarr", stream) == 3
    whole = run(inventory, box, tmp_path, block_half_hours=48)
    stored = open_store(tmp_path / "radar.zarr").load()
    for name in whole.dataset.data_vars:
        np.testing.assert_array_equal(stored[name].values, whole.dataset[name].values)
        assert stored[name].dtype == whole.dataset[name].dtype
    np.testing.assert_array_equal(stored.time.values, whole.dataset.time.values)
    assert stored.attrs["frames_per_half_hour"] == whole.dataset.attrs["frames_per_half_hour"]
    assert stream.bad_frames == whole.bad_frames
    assert stream.bad_frames_table()["path"].tolist() == [str(garbage)]
    messages = [r.getMessage() for r in caplog.records]
    assert any("1 radar file(s) could not be used" in m for m in messages)
    assert any(m.startswith("2 of 3 half hour(s) have fewer radar frames") for m in messages)


def test_a_stream_holds_one_block_whatever_the_period(tmp_path):
    """Writing a stream of 16 day blocks peaks at about the memory of 4 (tracemalloc)."""
    import tracemalloc

    from rainscore.colocate import BadFrame, ColocationResult, ColocationStream
    from rainscore.stores import write_store

    def results(n_blocks: int):
        grid = np.zeros((48, 60, 80), np.float32)  # 0.9 MB a block
        for b in range(n_blocks):
            time = pd.date_range("2024-01-01", periods=48, freq="30min") + pd.Timedelta(days=b)
            ds = xr.Dataset(
                {
                    "rain": (("time", "lat", "lon"), grid + b),
                    "n_frames": ("time", np.full(48, 6, np.int16)),
                    "n_impossible": ("time", np.zeros(48, np.int64)),
                },
                coords={"time": time, "lat": 45.05 + 0.1 * np.arange(60), "lon": np.arange(80.0)},
                attrs={"frames_per_half_hour": 6, "frame_minutes": 5, "frame_kind": "accumulation"},
            )
            yield ColocationResult(ds, [BadFrame(f"f{b}.h5", "e", "unreadable", "skipped")])

    def peak(n_blocks: int) -> int:
        stream = ColocationStream(results(n_blocks))
        tracemalloc.start()
        write_store(tmp_path / f"radar{n_blocks}.zarr", stream)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(stream.bad_frames) == n_blocks
        return peak

    peak(1)  # imports and caches
    assert peak(16) < 1.3 * peak(4)
