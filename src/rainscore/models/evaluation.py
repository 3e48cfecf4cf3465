"""Honest evaluation: metrics on the test blocks, beside baselines fitted on train.

Metrics (:func:`regression_metrics`) compare a predicted map score with the radar-based
target on the maps where the target is defined; a map whose target is undefined (too dry:
NaN) is excluded and counted (``n_undefined``). :func:`pixel_skill` scores a local error
map against a reference map.

Baselines (:func:`fit_baselines`), all fitted on the training split, with split-conformal
intervals (:class:`rainscore.models.intervals.SplitConformal`) calibrated on the validation
split:

- ``climatology``: the training median of the target, for every map;
- ``covariate:<name>``: isotonic regression (scikit-learn ``IsotonicRegression``) of the
  target on one map covariate, increasing or decreasing as the training data's Spearman ρ
  says, clipped outside the training range; by default ``ir_influence_mean``,
  ``quality_index_mean`` and ``pmw_age_mean``; a map whose covariate is missing gets the
  training median;
- ``gradient_boosting``: scikit-learn's ``HistGradientBoostingRegressor`` (seeded; missing
  values handled natively) on the numeric IMERG-side columns of the table
  (:func:`rainscore.analysis.sources.imerg_side_columns`).

Every baseline refuses a radar-side input (:func:`rainscore.analysis.sources.require_imerg_side`),
and the IMERG-side features should be those of the whole box
(:func:`rainscore.analysis.sources.imerg_features`), not ``map_scores``' (averaged over the
radar's scoring mask).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from rainscore.analysis.sources import imerg_side_columns, require_imerg_side
from rainscore.models.intervals import SplitConformal, interval_coverage

__all__ = [
    "BASELINE_PREDICTION_COLUMNS",
    "DEFAULT_COVARIATES",
    "EVALUATION_COLUMNS",
    "Baseline",
    "evaluate_baselines",
    "evaluation_table",
    "fit_baselines",
    "fit_climatology",
    "fit_covariate",
    "fit_gradient_boosting",
    "pixel_skill",
    "predict_baselines",
    "regression_metrics",
]

DEFAULT_COVARIATES: tuple[str, ...] = ("ir_influence_mean", "quality_index_mean", "pmw_age_mean")
"""The single-covariate baselines (DESIGN §6)."""

EVALUATION_COLUMNS: tuple[str, ...] = (
    "model",
    "kind",
    "spearman",
    "r2",
    "mae",
    "coverage",
    "n_test",
    "n_undefined",
    "pixel_skill",
    "verdict",
)
"""The columns of :func:`evaluation_table`, in order."""

BASELINE_PREDICTION_COLUMNS: tuple[str, ...] = (
    "time",
    "split",
    "model",
    "actual",
    "predicted",
    "lower",
    "upper",
)
"""The columns of :func:`predict_baselines`, in order."""


def _finite_pairs(predicted: np.ndarray, actual: np.ndarray, what: str) -> np.ndarray:
    """Where ``actual`` is defined; a missing prediction there is an error."""
    defined = np.isfinite(actual)
    bad = defined & ~np.isfinite(predicted)
    if bad.any():
        raise ValueError(
            f"{what}: {int(bad.sum())} predictions are missing (NaN) where the target is defined"
        )
    return defined


def regression_metrics(
    predicted: np.ndarray,
    actual: np.ndarray,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> dict[str, float | int]:
    """Spearman ρ, R², MAE and interval coverage of predicted vs actual map scores.

    Only the maps where ``actual`` is finite count; the others are ``n_undefined``.

    Args:
        predicted: Predicted scores ``(n,)``.
        actual: Target scores ``(n,)`` (NaN: undefined).
        lower: Lower interval bounds ``(n,)``, or None.
        upper: Upper interval bounds ``(n,)``, or None.

    Returns:
        ``spearman``, ``r2`` (1 − SS_res / SS_tot: negative when worse than the mean of
        ``actual``), ``mae``, ``coverage`` (share of ``lower <= actual <= upper``; NaN
        without bounds), ``n`` (maps counted) and ``n_undefined``. A metric that needs two
        maps or a varying target is NaN when it lacks them.

    Raises:
        ValueError: Shapes differ, or a prediction is NaN where the target is defined.
    """
    predicted = np.asarray(predicted, dtype=np.float64).ravel()
    actual = np.asarray(actual, dtype=np.float64).ravel()
    arrays = {"predicted": predicted, "actual": actual}
    if lower is not None or upper is not None:
        if lower is None or upper is None:
            raise ValueError("regression_metrics: give both lower and upper, or neither")
        arrays |= {
            "lower": np.asarray(lower, dtype=np.float64).ravel(),
            "upper": np.asarray(upper, dtype=np.float64).ravel(),
        }
    shapes = {k: v.shape for k, v in arrays.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"regression_metrics: shapes differ: {shapes}")
    defined = _finite_pairs(predicted, actual, "regression_metrics")
    p, a = predicted[defined], actual[defined]
    n = int(defined.sum())
    nan = float("nan")
    varies = n >= 2 and np.ptp(a) > 0
    spearman = nan
    if varies and np.ptp(p) > 0:
        spearman = float(stats.spearmanr(p, a).statistic)
    r2 = float(1.0 - np.sum((a - p) ** 2) / np.sum((a - a.mean()) ** 2)) if varies else nan
    coverage = nan
    if "lower" in arrays and n:
        coverage = interval_coverage(arrays["lower"][defined], arrays["upper"][defined], a)
    return {
        "spearman": spearman,
        "r2": r2,
        "mae": float(np.mean(np.abs(p - a))) if n else nan,
        "coverage": coverage,
        "n": n,
        "n_undefined": int((~np.isfinite(actual)).sum()),
    }


def pixel_skill(
    predicted: np.ndarray,
    actual: np.ndarray,
    mask: np.ndarray,
    reference: np.ndarray | float,
) -> float:
    """MSE skill of a local error map against a reference: ``1 − MSE(predicted) / MSE(reference)``.

    Args:
        predicted: Predicted local errors (any shape, e.g. ``(n, H, W)``).
        actual: Target local errors, same shape (NaN: not scored).
        mask: Pixels scored (broadcast to ``actual``); pixels where ``actual`` is NaN are
            left out too.
        reference: The reference prediction (a number such as the training mean, or a map
            broadcast to ``actual``).

    Returns:
        1 for a perfect map, 0 for as good as the reference, negative when worse; NaN when
        no pixel is scored or the reference is perfect.

    Raises:
        ValueError: A prediction or the reference is NaN on a scored pixel.
    """
    actual = np.asarray(actual, dtype=np.float64)
    predicted = np.broadcast_to(np.asarray(predicted, dtype=np.float64), actual.shape)
    reference = np.broadcast_to(np.asarray(reference, dtype=np.float64), actual.shape)
    scored = np.broadcast_to(np.asarray(mask, dtype=bool), actual.shape) & np.isfinite(actual)
    for name, values in (("predictions are", predicted), ("the reference is", reference)):
        if (scored & ~np.isfinite(values)).any():
            raise ValueError(f"pixel_skill: {name} NaN on scored pixels")
    if not scored.any():
        return float("nan")
    mse = np.mean((predicted[scored] - actual[scored]) ** 2)
    mse_ref = np.mean((reference[scored] - actual[scored]) ** 2)
    return float(1.0 - mse / mse_ref) if mse_ref > 0 else float("nan")


@dataclass
class Baseline:
    """A fitted baseline: a prediction from IMERG-side columns and a conformal interval.

    Attributes:
        name: ``climatology``, ``covariate:<column>`` or ``gradient_boosting``.
        columns: The input columns it reads (IMERG-side only).
        predictor: Maps the input columns (a ``(n, len(columns))`` float array) to scores.
        conformal: The split-conformal interval, calibrated on the validation split.
        info: What was fitted (counts, the covariate's direction…), JSON-safe.
    """

    name: str
    columns: tuple[str, ...]
    predictor: Callable[[np.ndarray], np.ndarray]
    conformal: SplitConformal | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def predict(self, table: pd.DataFrame) -> np.ndarray:
        """Predicted scores of every row of ``table``.

        Raises:
            KeyError: A column it reads is missing from ``table``.
        """
        missing = [c for c in self.columns if c not in table.columns]
        if missing:
            raise KeyError(f"baseline {self.name}: the table has no columns {missing}")
        inputs = table[list(self.columns)].to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(self.predictor(inputs), dtype=np.float64).reshape(len(table))

    def interval(self, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The conformal interval ``(lower, upper)`` of each row's prediction.

        Raises:
            ValueError: The baseline has not been calibrated.
        """
        if self.conformal is None:
            raise ValueError(f"baseline {self.name}: no conformal calibration")
        return self.conformal.interval(self.predict(table))


def _training_rows(table: pd.DataFrame, target: str) -> tuple[pd.DataFrame, np.ndarray]:
    if target not in table.columns:
        raise KeyError(f"the table has no target column {target!r}")
    y = table[target].to_numpy(dtype=np.float64, na_value=np.nan)
    defined = np.isfinite(y)
    if not defined.any():
        raise ValueError(f"no training map has a defined target {target!r}")
    return table[defined], y[defined]


def fit_climatology(train: pd.DataFrame, target: str) -> Baseline:
    """The training median of ``target`` for every map.

    Args:
        train: Training rows.
        target: Target column (NaN rows are left out).

    Returns:
        The baseline (not yet calibrated).
    """
    _, y = _training_rows(train, target)
    median = float(np.median(y))
    return Baseline(
        "climatology",
        (),
        lambda x: np.full(len(x), median),
        info={"median": median, "n_train": len(y)},
    )


def fit_covariate(train: pd.DataFrame, target: str, covariate: str) -> Baseline:
    """Isotonic regression of ``target`` on one IMERG-side covariate.

    The direction is that of the training data's Spearman correlation (increasing when it
    is 0 or undefined); predictions outside the training
    range are clipped to its ends; a missing covariate gets the training median.

    Args:
        train: Training rows.
        target: Target column (NaN rows are left out).
        covariate: The covariate column.

    Returns:
        The baseline (not yet calibrated).

    Raises:
        RadarSideInputError: ``covariate`` is not from the IMERG side.
        ValueError: No training row has both the target and the covariate.
    """
    from sklearn.isotonic import IsotonicRegression

    require_imerg_side([covariate], f"covariate baseline {covariate!r}")
    rows, y = _training_rows(train, target)
    x = rows[covariate].to_numpy(dtype=np.float64, na_value=np.nan)
    known = np.isfinite(x)
    if not known.any():
        raise ValueError(
            f"covariate baseline: no training map has both {target!r} and {covariate!r}"
        )
    rho = stats.spearmanr(x[known], y[known]).statistic if known.sum() > 1 else np.nan
    increasing = not (np.isfinite(rho) and rho < 0)
    model = IsotonicRegression(increasing=increasing, out_of_bounds="clip")
    model.fit(x[known], y[known])
    median = float(np.median(y))

    def predictor(inputs: np.ndarray) -> np.ndarray:
        values = inputs[:, 0]
        out = np.full(len(values), median)
        ok = np.isfinite(values)
        if ok.any():
            out[ok] = model.predict(values[ok])
        return out

    return Baseline(
        f"covariate:{covariate}",
        (covariate,),
        predictor,
        info={"increasing": increasing, "n_train": int(known.sum()), "median": median},
    )


def fit_gradient_boosting(
    train: pd.DataFrame, target: str, features: Sequence[str], seed: int = 0
) -> Baseline:
    """scikit-learn's ``HistGradientBoostingRegressor`` (seeded) on IMERG-side features.

    Args:
        train: Training rows.
        target: Target column (NaN rows are left out).
        features: Numeric IMERG-side columns (missing values are handled by the model).
        seed: ``random_state`` of the model.

    Returns:
        The baseline (not yet calibrated).

    Raises:
        RadarSideInputError: A feature is not from the IMERG side.
        ValueError: No features.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    features = tuple(features)
    require_imerg_side(features, "gradient_boosting features")
    if not features:
        raise ValueError("gradient_boosting: no features")
    rows, y = _training_rows(train, target)
    model = HistGradientBoostingRegressor(random_state=seed)
    model.fit(rows[list(features)].to_numpy(dtype=np.float64, na_value=np.nan), y)
    return Baseline(
        "gradient_boosting",
        features,
        model.predict,
        info={"n_train": len(y), "n_iter": int(model.n_iter_), "seed": seed},
    )


def _numeric(table: pd.DataFrame, columns: Iterable[str]) -> list[str]:
    """The columns usable as numbers (not text, not categories, not booleans)."""
    return [
        c
        for c in columns
        if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
    ]


def _with_split(table: pd.DataFrame, split: pd.DataFrame) -> pd.DataFrame:
    """``table`` (indexed by ``time`` or with a ``time`` column) with each row's split."""
    if "time" in table.columns:
        times = pd.DatetimeIndex(table["time"])
    else:
        times = pd.DatetimeIndex(table.index)
    labels = pd.Series(split["split"].to_numpy(), index=pd.DatetimeIndex(split["time"]))
    found = labels.reindex(times)
    if found.isna().any():
        absent = times[found.isna().to_numpy()]
        raise KeyError(
            f"{len(absent)} times of the table are not in the split, e.g. {absent[:3].tolist()}"
        )
    return table.assign(_split=found.to_numpy())


def fit_baselines(
    table: pd.DataFrame,
    target: str,
    split: pd.DataFrame,
    seed: int = 0,
    *,
    coverage: float = 0.8,
    covariates: Sequence[str] = DEFAULT_COVARIATES,
    features: Sequence[str] | None = None,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> dict[str, Baseline]:
    """Fit every baseline on the training split; calibrate its interval on the validation.

    Args:
        table: One row per map, indexed by ``time`` (or with a ``time`` column): the
            target column and IMERG-side feature columns (:func:`imerg_features` joined
            with the target).
        target: Target column (NaN: undefined, left out of fits and calibration).
        split: The training split (``time``, ``block``, ``split``) covering every row.
        seed: Seed of the gradient boosting.
        coverage: Nominal coverage of the intervals.
        covariates: Single-covariate baselines (those absent from ``table`` are skipped).
        features: Gradient-boosting features (default: the numeric IMERG-side columns of
            ``table`` other than the target).

    Returns:
        ``{name: Baseline}``: ``climatology``, ``covariate:<name>``…, ``gradient_boosting``;
        each one's ``info`` counts the maps it was fitted and calibrated on and those left
        out for an undefined target (``n_train_undefined``, ``n_calibration_undefined``).

    Raises:
        RadarSideInputError: A covariate or feature is not from the IMERG side.
        KeyError: A row's time not in the split, or the target missing.
        ValueError: No validation map with a defined target.
    """
    require_imerg_side(covariates, "covariate baselines")
    if features is None:
        candidates = [c for c in table.columns if c != target]
        features = _numeric(table, imerg_side_columns(candidates))
    require_imerg_side(features, "gradient_boosting features")
    labelled = _with_split(table, split)
    train = labelled[labelled["_split"] == "train"]
    validation = labelled[labelled["_split"] == "validation"]
    y_val = validation[target].to_numpy(dtype=np.float64, na_value=np.nan)
    calibrate = np.isfinite(y_val)
    if not calibrate.any():
        raise ValueError(f"fit_baselines: no validation map has a defined target {target!r}")
    n_undefined = {
        "n_train_undefined": int(train[target].isna().sum()),
        "n_calibration_undefined": int((~calibrate).sum()),
    }
    baselines = [fit_climatology(train, target)]
    baselines += [fit_covariate(train, target, c) for c in covariates if c in table.columns]
    baselines.append(fit_gradient_boosting(train, target, features, seed))
    for baseline in baselines:
        predicted = baseline.predict(validation)
        baseline.conformal = SplitConformal.calibrate(
            predicted[calibrate], y_val[calibrate], coverage=coverage, bounds=bounds
        )
        baseline.info |= {"n_calibration": int(calibrate.sum()), **n_undefined}
    return {b.name: b for b in baselines}


def evaluate_baselines(
    baselines: Mapping[str, Baseline], table: pd.DataFrame, target: str, split: pd.DataFrame
) -> list[dict[str, Any]]:
    """The metrics of every baseline on the test split, as rows for :func:`evaluation_table`.

    Args:
        baselines: From :func:`fit_baselines`.
        table: As for :func:`fit_baselines`.
        target: Target column.
        split: The training split.

    Returns:
        One dict per baseline: ``model``, ``kind`` (``baseline``), the metrics of
        :func:`regression_metrics` on the test maps (``n_test``: maps with a defined
        target) and ``pixel_skill`` (NaN: a baseline has no local error map). The
        estimates are clipped to the score's range first, as the U-Net's are and as
        :func:`predict_baselines` holds them.

    Raises:
        ValueError: A baseline has not been calibrated.
    """
    labelled = _with_split(table, split)
    test = labelled[labelled["_split"] == "test"]
    actual = test[target].to_numpy(dtype=np.float64, na_value=np.nan)
    rows = []
    for name, baseline in baselines.items():
        predicted, lower, upper = _calibrated_estimates(name, baseline, test)
        metrics = regression_metrics(predicted, actual, lower, upper)
        n = metrics.pop("n")
        rows.append(
            {"model": name, "kind": "baseline", **metrics, "n_test": n, "pixel_skill": np.nan}
        )
    return rows


def _calibrated_estimates(
    name: str, baseline: Baseline, rows: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A calibrated baseline's estimates of ``rows``, clipped to the score's range, and
    their conformal interval ``(predicted, lower, upper)``."""
    if baseline.conformal is None:
        raise ValueError(f"baseline {name}: no conformal calibration")
    predicted = baseline.conformal.clip(baseline.predict(rows))
    lower, upper = baseline.conformal.interval(predicted)
    return predicted, lower, upper


def predict_baselines(
    baselines: Mapping[str, Baseline], table: pd.DataFrame, target: str, split: pd.DataFrame
) -> pd.DataFrame:
    """Every baseline's estimate and interval for every map of every split.

    Args:
        baselines: From :func:`fit_baselines` (calibrated).
        table: As for :func:`fit_baselines`.
        target: Target column.
        split: The training split covering every row (``gap`` maps included, as in
            ``unet_predictions``).

    Returns:
        :data:`BASELINE_PREDICTION_COLUMNS`: one row per baseline and map (baselines in
        the order given, maps in time order); ``actual`` is NaN where the target is
        undefined, ``predicted`` is clipped to the score's range (``Baseline.conformal``'s
        bounds) and ``lower``/``upper`` is the interval calibrated on the validation split.
    """
    labelled = _with_split(table, split)
    times = (
        pd.DatetimeIndex(labelled["time"])
        if "time" in labelled.columns
        else pd.DatetimeIndex(labelled.index)
    )
    order = np.argsort(times.to_numpy(), kind="stable")
    labelled, times = labelled.iloc[order], times[order]
    actual = labelled[target].to_numpy(dtype=np.float64, na_value=np.nan)
    frames = []
    for name, baseline in baselines.items():
        predicted, lower, upper = _calibrated_estimates(name, baseline, labelled)
        frames.append(
            pd.DataFrame(
                {
                    "time": times,
                    "split": labelled["_split"].to_numpy(),
                    "model": name,
                    "actual": actual,
                    "predicted": predicted,
                    "lower": lower,
                    "upper": upper,
                }
            )
        )
    if not frames:
        return pd.DataFrame({c: [] for c in BASELINE_PREDICTION_COLUMNS})
    return pd.concat(frames, ignore_index=True)[list(BASELINE_PREDICTION_COLUMNS)]


def evaluation_table(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per model, baselines and deep models side by side, with a verdict.

    Args:
        rows: Dicts with ``model``, ``kind`` (``baseline`` or ``deep``) and the metrics
            (``spearman``, ``r2``, ``mae``, ``coverage``, ``n_test``, and optionally
            ``n_undefined``, ``pixel_skill``; ``n`` is read as ``n_test``).

    Returns:
        The columns of :data:`EVALUATION_COLUMNS` (then any extra keys). ``verdict`` says,
        for a deep model, whether it beats every baseline on Spearman ρ or which one it
        loses to ("loses to gradient_boosting (ρ 0.71 vs 0.74)"); empty for baselines.

    Raises:
        ValueError: A row without ``model`` or with a ``kind`` other than baseline/deep.
    """
    records = []
    for row in rows:
        record = dict(row)
        if "n" in record and "n_test" not in record:
            record["n_test"] = record.pop("n")
        if "model" not in record or record.get("kind") not in ("baseline", "deep"):
            raise ValueError(
                f"evaluation_table: each row needs a model and kind baseline|deep, got {row!r}"
            )
        records.append(record)
    table = pd.DataFrame.from_records(records)
    for column in EVALUATION_COLUMNS:
        if column not in table.columns:
            table[column] = "" if column == "verdict" else np.nan
    baselines = table[table["kind"] == "baseline"]
    verdicts = []
    for _, row in table.iterrows():
        verdicts.append("" if row["kind"] == "baseline" else _verdict(row, baselines))
    table["verdict"] = verdicts
    extra = [c for c in table.columns if c not in EVALUATION_COLUMNS]
    return table[list(EVALUATION_COLUMNS) + extra].reset_index(drop=True)


def _verdict(row: pd.Series, baselines: pd.DataFrame) -> str:
    rho = row["spearman"]
    if baselines.empty:
        return "no baseline to compare with"
    if not np.isfinite(rho):
        return "no Spearman ρ: not comparable"
    better = baselines[baselines["spearman"].astype(float) >= rho]
    if better.empty:
        return "beats every baseline"
    best = better.loc[better["spearman"].astype(float).idxmax()]
    return f"loses to {best['model']} (ρ {rho:.2f} vs {float(best['spearman']):.2f})"
