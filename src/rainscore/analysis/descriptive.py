"""The descriptive analysis of the per-map scores, and the choice of the target score.

Given the table of scores and context features (one row per map), this module measures:

- how each candidate score is distributed, and on how many maps it is defined;
- how the candidates correlate with each other (Spearman, pairwise complete);
- how each depends on satellite presence (PMW age, PMW coverage, IR influence, quality
  index), on time (hour, season) and on the rain regime;

and recommends a target score by a fixed, documented rule (:func:`recommend_target`).
Figures are matplotlib ``Figure`` objects; the report is Markdown. No Kedro imports.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from rainscore.params import dataclass_from_params
from rainscore.scores.catalogue import score_info

#: Covariates that describe satellite presence: a useful target score depends on them.
PRESENCE_COVARIATES = ("pmw_age_mean", "pmw_coverage", "ir_influence_mean", "quality_index_mean")
#: Axis labels (with units) of the presence covariates.
COVARIATE_LABELS = {
    "pmw_age_mean": "mean PMW age (min)",
    "pmw_coverage": "PMW coverage (fraction of cells)",
    "ir_influence_mean": "mean IR influence (%)",
    "quality_index_mean": "mean quality index (1)",
}
#: Categorical context the scores are broken down by.
GROUPINGS = ("season", "hour", "true_regime")


@dataclass(frozen=True)
class AnalysisConfig:
    """Parameters of the descriptive analysis.

    Attributes:
        candidates: Score columns considered as target (in order of preference on ties).
            Each must be monotone in map quality: a skill score (higher is better) or an
            error (lower is better). Signed scores that are best at 0 (mean error, SAL's S
            and A) cannot rank maps and are not candidates.
        min_coverage: Fraction of maps a candidate must leave defined to be recommended.
        signal_tolerance: Presence signals within this of the best count as equivalent.
        n_bootstrap: Bootstrap resamplings (of whole days) for the signals' standard errors.
        seed: Seed of the bootstrap.
        n_bins: Number of quantile bins of a continuous covariate.

    Whether a candidate is a skill (higher is better) or an error, and whether it is
    bounded, is read from the score catalogue (:data:`rainscore.scores.SCORES`).
    """

    candidates: tuple[str, ...] = (
        "fss_t0.5_w9",
        "fss_t1.0_w5",
        "csi_t1.0",
        "ets_t1.0",
        "pearson",
        "kge",
        "rmse",
    )
    min_coverage: float = 0.5
    signal_tolerance: float = 0.05
    n_bootstrap: int = 200
    seed: int = 0
    n_bins: int = 5

    def __post_init__(self) -> None:
        checks = (
            ("min_coverage", 0 <= self.min_coverage <= 1, "in [0, 1]"),
            ("signal_tolerance", self.signal_tolerance >= 0, ">= 0"),
            ("n_bootstrap", self.n_bootstrap >= 0, ">= 0"),
            ("n_bins", self.n_bins >= 1, ">= 1"),
        )
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(
                    f"scoring.analysis.{name} must be {expected}, got {getattr(self, name)}"
                )
        if not self.candidates:
            raise ValueError("scoring.analysis.candidates must name at least one score")
        for column in self.candidates:
            try:
                info = score_info(column)
            except ValueError as err:
                raise ValueError(f"scoring.analysis.candidates: {err}") from None
            if not info.ranks_maps:
                raise ValueError(
                    f"scoring.analysis.candidates: {column!r} cannot rank maps by quality "
                    f"(direction {info.direction!r} in the score catalogue); a candidate is a "
                    "skill (higher is better) or an error (lower is better)"
                )

    @classmethod
    def from_dict(cls, d: dict | None) -> AnalysisConfig:
        """Build from parameters (unknown keys are an error)."""
        return dataclass_from_params(cls, d, section="scoring.analysis")


@dataclass
class Analysis:
    """Numbers of the descriptive analysis (JSON-friendly through :meth:`to_dict`)."""

    n_maps: int
    coverage: dict[str, float]
    distribution: dict[str, dict[str, float]]
    correlation: dict[str, dict[str, float]]
    dependence: dict[str, dict[str, float]]
    grouped: dict[str, dict[str, dict[str, float]]]
    recommendation: dict[str, Any]
    candidates: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (NaN become null)."""
        raw = {
            "n_maps": self.n_maps,
            "candidates": self.candidates,
            "coverage": self.coverage,
            "distribution": self.distribution,
            "correlation": self.correlation,
            "dependence": self.dependence,
            "grouped": self.grouped,
            "recommendation": self.recommendation,
        }
        return json.loads(
            json.dumps(raw, default=_json_default, allow_nan=True).replace("NaN", "null")
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def describe_scores(table: pd.DataFrame, *, config: AnalysisConfig) -> Analysis:
    """Measure distributions, coverage, correlations and dependences of the candidates.

    Args:
        table: One row per map: score columns and context features (``map_scores``).
        config: Candidates and analysis parameters.

    Returns:
        The analysis, with the recommended target score.
    """
    candidates = [c for c in config.candidates if c in table]
    missing = [c for c in config.candidates if c not in table]
    if not candidates:
        raise ValueError(f"None of the candidate scores {list(config.candidates)} is in the table")
    n = len(table)
    scores = table[candidates].astype(float)
    coverage = {c: float(scores[c].notna().mean()) if n else 0.0 for c in candidates}
    distribution = {}
    for c in candidates:
        s = scores[c].dropna()
        distribution[c] = {
            "n_defined": int(s.size),
            "mean": _clean(s.mean()) if s.size else None,
            "std": _clean(s.std()) if s.size > 1 else None,
            **{
                f"q{int(q * 100):02d}": _clean(s.quantile(q)) if s.size else None
                for q in (0.05, 0.25, 0.5, 0.75, 0.95)
            },
        }
    corr = scores.corr(method="spearman", min_periods=10)
    correlation = {a: {b: _clean(corr.loc[a, b]) for b in candidates} for a in candidates}

    covariates = [c for c in PRESENCE_COVARIATES if c in table]
    dependence: dict[str, dict[str, float]] = {}
    for c in candidates:
        dependence[c] = {}
        for cov in covariates:
            pair = table[[c, cov]].astype(float).dropna()
            rho = pair[c].corr(pair[cov], method="spearman") if len(pair) >= 10 else np.nan
            dependence[c][cov] = _clean(rho)

    grouped: dict[str, dict[str, dict[str, float]]] = {}
    for g in GROUPINGS:
        if g not in table or table[g].isna().all():
            continue
        key = (
            table[g].astype(str)
            if g != "hour"
            else (table[g] // 3 * 3).astype(int).astype(str) + "h"
        )
        grouped[g] = {
            c: {str(k): _clean(v) for k, v in scores[c].groupby(key).median().items()}
            for c in candidates
        }
    recommendation = recommend_target(table, coverage, config=config)
    if missing:
        recommendation["missing_candidates"] = missing
    return Analysis(
        n_maps=n,
        coverage=coverage,
        distribution=distribution,
        correlation=correlation,
        dependence=dependence,
        grouped=grouped,
        recommendation=recommendation,
        candidates=candidates,
    )


#: Expected sign of a skill score's Spearman correlation with each presence covariate.
SKILL_SIGN = {
    "pmw_age_mean": -1.0,
    "ir_influence_mean": -1.0,
    "pmw_coverage": 1.0,
    "quality_index_mean": 1.0,
}


def _presence_signals(
    table: pd.DataFrame, candidates: list[str], config: AnalysisConfig
) -> pd.Series:
    """Mean signed Spearman correlation of each candidate with the presence covariates."""
    covariates = [c for c in SKILL_SIGN if c in table]
    if not covariates:
        return pd.Series(np.nan, index=candidates)
    corr = table[candidates + covariates].astype(float).corr(method="spearman", min_periods=10)
    signals = {}
    for c in candidates:
        sign = 1.0 if score_info(c).higher_is_better else -1.0
        values = [sign * SKILL_SIGN[cov] * corr.loc[c, cov] for cov in covariates]
        values = [v for v in values if np.isfinite(v)]
        signals[c] = float(np.mean(values)) if values else np.nan
    return pd.Series(signals)


def _bootstrap_se(table: pd.DataFrame, candidates: list[str], config: AnalysisConfig) -> pd.Series:
    """Standard error of the presence signals by a bootstrap over whole days.

    Maps of one day share weather, so days, not maps, are resampled.
    """
    if config.n_bootstrap < 2 or not isinstance(table.index, pd.DatetimeIndex):
        return pd.Series(np.nan, index=candidates)
    days = table.index.normalize()
    groups = [np.flatnonzero(days == d) for d in days.unique()]
    if len(groups) < 3:
        return pd.Series(np.nan, index=candidates)
    rng = np.random.default_rng(config.seed)
    draws = []
    for _ in range(config.n_bootstrap):
        pick = rng.integers(0, len(groups), len(groups))
        rows = np.concatenate([groups[i] for i in pick])
        draws.append(_presence_signals(table.iloc[rows], candidates, config))
    return pd.DataFrame(draws).std(ddof=1)


def recommend_target(
    table: pd.DataFrame, coverage: dict[str, float], *, config: AnalysisConfig
) -> dict[str, Any]:
    """Recommend the target score by a fixed rule.

    1. **Defined**: the score is defined on at least ``min_coverage`` of the maps.
    2. **Bounded**: its range is bounded (the score catalogue, :data:`rainscore.scores.SCORES`),
       so a model's errors on it are comparable from map to map and no outlier dominates a
       loss.
    3. **Tracks satellite presence**: its *presence signal* — the mean of its Spearman
       correlations with PMW age, PMW coverage, IR influence and quality index, each signed
       so that positive means "worse when the satellites saw less" — is within
       ``signal_tolerance`` of the best eligible candidate's.
    4. Among those, the first in ``config.candidates`` (the order states the preference:
       FSS first, because it tolerates small displacements and the U-Net's per-pixel target,
       the local fraction error, aggregates exactly into it).

    The bootstrap standard error of each signal (resampling whole days) is reported so the
    tolerance can be judged against the sampling noise.

    Returns:
        The chosen score, the reason, and one ranking row per candidate.
    """
    candidates = [c for c in config.candidates if c in coverage]
    signals = _presence_signals(table, candidates, config)
    errors = _bootstrap_se(table, candidates, config)
    ranking = []
    for c in candidates:
        signal = signals[c]
        ranking.append(
            {
                "score": c,
                "coverage": coverage[c],
                "bounded": score_info(c).bounded,
                "presence_signal": _clean(signal),
                "signal_se": _clean(errors.get(c, np.nan)),
                "eligible": bool(
                    coverage[c] >= config.min_coverage
                    and score_info(c).bounded
                    and np.isfinite(signal)
                ),
            }
        )
    eligible = [r for r in ranking if r["eligible"]]
    if not eligible:
        return {
            "score": None,
            "reason": f"No bounded candidate is defined on ≥ {config.min_coverage:.0%} of the "
            "maps with a measurable dependence on satellite presence.",
            "ranking": ranking,
        }
    best = max(r["presence_signal"] for r in eligible)
    chosen = next(r for r in eligible if r["presence_signal"] >= best - config.signal_tolerance)
    strongest = max(eligible, key=lambda r: r["presence_signal"])
    reason = (
        f"{chosen['score']} is defined on {chosen['coverage']:.0%} of the maps, bounded, and "
        f"its presence signal ({chosen['presence_signal']:.2f}) is within "
        f"{config.signal_tolerance:.2f} of the strongest bounded candidate "
        f"({strongest['score']}, {strongest['presence_signal']:.2f}); it comes first in the "
        "order of preference among those."
    )
    return {"score": chosen["score"], "reason": reason, "ranking": ranking}


# ---------------------------------------------------------------- figures


def _subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """A figure and its axes, without pyplot (no global figure registry, no backend)."""
    figsize = kwargs.pop("figsize", None)
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def analysis_figures(
    table: pd.DataFrame, analysis: Analysis, *, config: AnalysisConfig
) -> dict[str, Figure]:
    """The report's figures, by file stem."""
    figs: dict[str, Figure] = {}
    cands = analysis.candidates
    ncol = min(4, len(cands))
    nrow = math.ceil(len(cands) / ncol)

    fig, axes = _subplots(nrow, ncol, figsize=(3.2 * ncol, 2.6 * nrow), squeeze=False)
    for ax, c in zip(axes.ravel(), cands, strict=False):
        s = table[c].astype(float).dropna()
        if s.size:
            ax.hist(s, bins=30, color="tab:blue", alpha=0.8)
        ax.set_title(f"{c}\n{analysis.coverage[c]:.0%} of maps defined", fontsize=8)
        ax.tick_params(labelsize=7)
        units = score_info(c).units
        ax.set_xlabel(c if units == "1" else f"{c} ({units})", fontsize=7)
        ax.set_ylabel("number of maps", fontsize=7)
    for ax in axes.ravel()[len(cands) :]:
        ax.set_visible(False)
    fig.suptitle("Distributions of the candidate scores", fontsize=10)
    fig.tight_layout()
    figs["distributions"] = fig

    corr = np.array(
        [
            [
                analysis.correlation[a][b] if analysis.correlation[a][b] is not None else np.nan
                for b in cands
            ]
            for a in cands
        ]
    )
    fig, ax = _subplots(figsize=(1.0 + 0.6 * len(cands), 0.8 + 0.6 * len(cands)))
    im = ax.imshow(corr, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(cands)), cands, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(cands)), cands, fontsize=7)
    for i in range(len(cands)):
        for j in range(len(cands)):
            if not np.isnan(corr[i, j]):
                ax.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, label="Spearman ρ")
    ax.set_title("Correlation between candidate scores", fontsize=10)
    fig.tight_layout()
    figs["correlation"] = fig

    covariates = [c for c in PRESENCE_COVARIATES if c in table]
    if covariates:
        fig, axes = _subplots(
            len(cands),
            len(covariates),
            figsize=(2.8 * len(covariates), 2.0 * len(cands)),
            squeeze=False,
        )
        for i, c in enumerate(cands):
            for j, cov in enumerate(covariates):
                ax = axes[i, j]
                pair = table[[cov, c]].astype(float).dropna()
                if len(pair) >= config.n_bins * 3:
                    bins = pd.qcut(pair[cov], config.n_bins, duplicates="drop")
                    grouped = pair.groupby(bins, observed=True)[c]
                    mids = [iv.mid for iv in grouped.median().index]
                    ax.plot(mids, grouped.median().values, "o-", color="tab:red", ms=3)
                    ax.fill_between(
                        mids,
                        grouped.quantile(0.25).values,
                        grouped.quantile(0.75).values,
                        alpha=0.25,
                        color="tab:red",
                    )
                rho = analysis.dependence[c].get(cov)
                ax.set_title(
                    f"{c} vs {cov}\nρ = {rho:.2f}" if rho is not None else f"{c} vs {cov}",
                    fontsize=7,
                )
                ax.tick_params(labelsize=6)
                ax.set_xlabel(COVARIATE_LABELS.get(cov, cov), fontsize=6)
                ax.set_ylabel(f"median {c}", fontsize=6)
        fig.suptitle(
            "Median (IQR) of each score by quantile bin of satellite presence", fontsize=10
        )
        fig.tight_layout()
        figs["dependence_presence"] = fig

    for g, by_score in analysis.grouped.items():
        fig, ax = _subplots(figsize=(6, 3))
        for c in cands:
            items = list(by_score[c].items())
            if items:
                ax.plot(
                    [k for k, _ in items],
                    [v if v is not None else np.nan for _, v in items],
                    "o-",
                    label=c,
                    ms=3,
                )
        ax.set_xlabel(g)
        ax.set_ylabel("median score")
        ax.legend(fontsize=6, ncol=2)
        ax.set_title(f"Median score by {g}", fontsize=10)
        ax.tick_params(labelsize=7)
        fig.tight_layout()
        figs[f"by_{g}"] = fig
    return figs


def analysis_markdown(
    analysis: Analysis, *, configured_target: str, figure_dir: str = "figures"
) -> str:
    """The analysis as a Markdown report (figures linked from ``figure_dir``)."""
    rec = analysis.recommendation
    lines = [
        "# Scores of the IMERG maps: descriptive analysis",
        "",
        f"{analysis.n_maps} colocated maps.",
        "",
        "## Target score",
        "",
        f"- Recommended by the rule: **{rec['score']}** — {rec['reason']}",
        f"- Configured target (`target.score`): **{configured_target}**"
        + (
            ""
            if configured_target == rec["score"]
            else " — differs from the recommendation; review the parameter."
        ),
        "",
        "| candidate | maps defined | bounded | presence signal ± bootstrap SE | eligible |",
        "|---|---|---|---|---|",
    ]
    for r in rec["ranking"]:
        sig = f"{r['presence_signal']:.2f}" if r["presence_signal"] is not None else "—"
        if r.get("signal_se") is not None:
            sig += f" ± {r['signal_se']:.2f}"
        bounded = "yes" if r["bounded"] else "no"
        eligible = "yes" if r["eligible"] else "no"
        lines.append(f"| {r['score']} | {r['coverage']:.0%} | {bounded} | {sig} | {eligible} |")
    lines += [
        "",
        "The presence signal averages the Spearman correlations of the score with the PMW age, "
        "the PMW coverage, the IR influence and the quality index, each signed so that a "
        'positive value means "the map is worse when the satellites saw less".',
        "",
        "## Distributions",
        "",
        f"![distributions]({figure_dir}/distributions.png)",
        "",
        "| score | defined | mean | q05 | q25 | median | q75 | q95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c, d in analysis.distribution.items():

        def f(x):
            return f"{x:.3g}" if x is not None else "—"

        stats = " | ".join(f(d[k]) for k in ("mean", "q05", "q25", "q50", "q75", "q95"))
        lines.append(f"| {c} | {d['n_defined']} | {stats} |")
    lines += [
        "",
        "## Correlation between candidates",
        "",
        f"![correlation]({figure_dir}/correlation.png)",
        "",
    ]
    lines += ["## Dependence on satellite presence", ""]
    covs = sorted({cov for d in analysis.dependence.values() for cov in d})
    if covs:
        lines += [f"![dependence]({figure_dir}/dependence_presence.png)", ""]
        lines += ["| score | " + " | ".join(covs) + " |", "|---|" + "---|" * len(covs)]
        for c, d in analysis.dependence.items():
            lines.append(
                f"| {c} | "
                + " | ".join(f"{d[v]:.2f}" if d.get(v) is not None else "—" for v in covs)
                + " |"
            )
        lines.append("")
    for g in analysis.grouped:
        lines += [f"## By {g}", "", f"![by {g}]({figure_dir}/by_{g}.png)", ""]
    return "\n".join(lines)
