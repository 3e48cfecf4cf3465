"""Agreement with ``pysteps.verification`` to 1e-9 where the conventions coincide.

They coincide on fields without NaN or mask, with no value exactly at a threshold (pysteps
counts events ``> threshold`` in ``det_cat_fct`` and conditions on ``> thr``), for ETS where
there are observed events (pysteps computes it from POD and is undefined otherwise), for FSS at
window 1 or when no event lies within ``2 * (window // 2)`` cells of the border (pysteps
zero-pads windows, we truncate them), and for SAL when every object has at least 50 pixels
and objects are at least 10 cells apart (pysteps' thunderstorm detection drops the rest) and
every positive rain rate is >= 0.1 mm/h (pysteps takes R95 over values > the field minimum).
"""

from __future__ import annotations

import numpy as np
import pytest

from rainscore.scores import categorical_scores, continuous_scores, fss, sal

from .conftest import as_maps, fake_pair, rain_arrays

verification = pytest.importorskip("pysteps.verification")
RTOL = 1e-9
# pysteps divides by zero on purpose for undefined scores.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning:pysteps")


def test_continuous_matches_det_cont_fct() -> None:
    fc, obs = fake_pair(3, (36, 52), seed=3)
    ds = continuous_scores(fc, obs)
    names = {"ME": "me", "MAE": "mae", "RMSE": "rmse", "corr_p": "pearson", "corr_s": "spearman"}
    for i in range(fc.sizes["time"]):
        for conditioning, suffix in ((None, ""), ("single", "_wet")):
            ref = verification.det_cont_fct(
                fc.values[i], obs.values[i], scores=list(names), conditioning=conditioning, thr=0.1
            )
            for key, name in names.items():
                np.testing.assert_allclose(
                    ds[name + suffix].values[i], ref[key], rtol=RTOL, atol=1e-12, err_msg=name
                )


def test_categorical_matches_det_cat_fct(pair) -> None:
    fc, obs = pair
    thresholds = (0.1, 0.5, 1.0, 2.0, 5.0)
    ds = categorical_scores(fc, obs, thresholds=thresholds, min_wet_fraction=0)
    names = {
        "POD": "pod",
        "FAR": "far",
        "CSI": "csi",
        "GSS": "ets",
        "HSS": "hss",
        "BIAS": "frequency_bias",
    }
    for i in range(fc.sizes["time"]):
        for k, threshold in enumerate(thresholds):
            ref = verification.det_cat_fct(fc.values[i], obs.values[i], threshold)
            for key, name in names.items():
                ours = ds[name].values[i, k]
                if np.isfinite(ref[key]):
                    np.testing.assert_allclose(ours, ref[key], rtol=RTOL, err_msg=name)
                elif name != "ets":  # pysteps: inf or nan for a zero denominator; we: NaN
                    assert np.isnan(ours), name


@pytest.mark.parametrize("frame", [0, 14])
def test_fss_matches_pysteps_where_windows_agree(frame: int) -> None:
    fc, obs = rain_arrays(3, seed=4)
    if frame:  # no event near the border: truncated and zero-padded windows agree
        for field in (fc, obs):
            field[:, :frame] = field[:, -frame:] = 0.0
            field[:, :, :frame] = field[:, :, -frame:] = 0.0
    windows = (1, 3, 5, 9, 15) if frame else (1,)
    thresholds = (0.1, 0.5, 1.0, 2.0, 5.0)
    ds = fss(as_maps(fc), as_maps(obs), thresholds=thresholds, windows=windows, min_wet_fraction=0)
    for i in range(3):
        for k, threshold in enumerate(thresholds):
            for j, window in enumerate(windows):
                ref = verification.fss(fc[i], obs[i], threshold, window)
                np.testing.assert_allclose(ds["fss"].values[i, k, j], ref, rtol=RTOL, atol=1e-12)


def test_fss_differs_from_zero_padding_near_the_border() -> None:
    obs = np.zeros((1, 10, 10))
    obs[0, 0, 0] = 2.0
    fc = np.zeros((1, 10, 10))
    fc[0, 1, 1] = 2.0
    ours = fss(as_maps(fc), as_maps(obs), thresholds=[1.0], windows=[3], min_wet_fraction=0)
    ref = verification.fss(fc[0], obs[0], 1.0, 3)
    assert ours["fss"].values[0, 0, 0] != pytest.approx(ref)


def _blob_fields(seed: int) -> np.ndarray:
    """Separated smooth rain cells (>= 50 pixels, > 10 cells apart), zero elsewhere."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:72, 0:104]
    field = np.zeros((72, 104))
    for cy, cx in ((15, 18), (18, 60), (50, 30), (52, 85)):
        cy += int(rng.integers(-3, 4))
        cx += int(rng.integers(-3, 4))
        peak = rng.lognormal(1.0, 0.5)
        radius = rng.uniform(5.0, 9.0)
        cell = peak * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * radius**2))
        field += cell * rng.lognormal(0.0, 0.05, cell.shape)
    return np.where(field >= 0.1, field, 0.0)


def test_sal_matches_pysteps_sal() -> None:
    pytest.importorskip("skimage")
    fields = np.stack([_blob_fields(seed) for seed in range(6)])
    fc, obs = fields[:3], fields[3:]
    ds = sal(as_maps(fc), as_maps(obs), min_object_pixels=50)
    for i in range(3):
        ref = verification.salscores.sal(fc[i], obs[i], thr_factor=1 / 15, thr_quantile=0.95)
        ours = [ds[k].values[i] for k in ("structure", "amplitude", "location")]
        np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=1e-12)
    assert (ds["n_objects_obs"] >= 2).all() and (ds["n_objects_forecast"] >= 2).all()
