"""Every top-level parameter section and the typed config it parses into: one registry.

:data:`SECTIONS` maps each top-level key of the parameters (``box``, ``demo``,
``ingestion``, ``colocation``, ``scoring``, ``target``, ``training``…) to the function
that parses and validates it (the section's ``XxxConfig.from_dict``).
:func:`validate_parameters` parses every section before any work and raises one
:class:`ParameterError` listing every problem, including top-level sections nobody reads
(a misspelt ``ingestoin``).

To add a section: write its frozen config with a ``from_dict`` (through
:func:`rainscore.params.dataclass_from_params`, so unknown keys are errors), add it to
:data:`SECTIONS`, and add its YAML to ``conf/base/parameters_<name>.yml``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rainscore.analysis import AnalysisConfig, FeatureConfig
from rainscore.analysis.sources import require_imerg_side
from rainscore.colocate import ColocationConfig
from rainscore.colocate.pairs import MaskConfig
from rainscore.execution import ExecutorConfig
from rainscore.grids import Box
from rainscore.ingest import IngestionConfig
from rainscore.models import (
    DEFAULT_COVARIATES,
    INPUT_CHANNELS,
    SplitConfig,
    TrainConfig,
    TuningConfig,
    UNetConfig,
    UNetRecipe,
)
from rainscore.models.autoencoder import TUNABLE as AUTOENCODER_TUNABLE
from rainscore.models.autoencoder import AutoencoderConfig, AutoencoderRecipe
from rainscore.models.clustering import DECConfig, DESOMConfig, KMeansConfig
from rainscore.models.experiment import TUNABLE
from rainscore.models.inference import InferenceConfig
from rainscore.models.labelling import LabelConfig
from rainscore.params import dataclass_from_params
from rainscore.reporting.config import ReportConfig
from rainscore.scores import ScoreConfig
from rainscore.scores.target import TargetConfig
from rainscore.synthetic import WorldConfig
from rainscore.validation import ExpectationConfig, ScoreSuiteConfig

__all__ = [
    "SECTIONS",
    "ClusteringSection",
    "ColocationSection",
    "ParameterError",
    "ParameterSection",
    "RepresentationSection",
    "ScoringSection",
    "TrainingSection",
    "validate_parameters",
]


class ParameterError(ValueError):
    """Invalid parameters: every problem found, one per line, each naming its section."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} invalid parameter(s):\n{lines}")


def _problem(where: str, err: Exception) -> list[str]:
    """The messages of ``err`` prefixed with ``where`` unless they already name it."""
    if isinstance(err, ParameterError):
        return list(err.problems)
    message = str(err)
    return [message if where in message else f"{where}: {message}"]


def _parse_parts(
    section: str,
    value: Any,
    parts: Mapping[str, Callable[[Any], object]],
) -> dict[str, object]:
    """Parse each sub-section of a section, collecting every problem.

    Args:
        section: The section's name (``"scoring"``), for the messages.
        value: The section's mapping from the parameters.
        parts: Parser of each allowed key (missing keys are parsed from ``None``).

    Returns:
        The parsed value of every part.

    Raises:
        ParameterError: Listing unknown keys and every part that fails to parse.
    """
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise ParameterError([f"{section} must be a mapping, got {value!r}"])
    problems = [_unknown(section, key, parts) for key in sorted(set(value) - set(parts))]
    parsed: dict[str, object] = {}
    for key, parse in parts.items():
        try:
            parsed[key] = parse(value.get(key))
        except (ValueError, TypeError) as err:
            problems.extend(_problem(f"{section}.{key}", err))
    if problems:
        raise ParameterError(problems)
    return parsed


def _unknown(section: str, key: str, known: Sequence[str]) -> str:
    """The message for an unknown key, with the close match if there is one."""
    kind, where = ("parameter", f"{section}.{key}") if section else ("parameter section", key)
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {where!r}{hint} (known: {sorted(known)})"


def _positive_int(name: str, default: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        value = default if value is None else value
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
        return value

    return parse


@dataclass(frozen=True)
class ColocationSection:
    """``params:colocation``: the engine, the scoring mask and the validation suites (the
    area-weights cache is the catalog's ``area_weights``)."""

    engine: ColocationConfig
    mask: MaskConfig
    validation: ExpectationConfig

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None, box: Box) -> ColocationSection:
        """Parse every sub-section (problems of all of them in one :class:`ParameterError`).

        Args:
            params: The ``colocation`` section.
            box: The analysis box (the grid the validation suites expect).

        Returns:
            The parsed section.

        Raises:
            ParameterError: Listing every problem.
        """
        parts: dict[str, Callable[[Any], object]] = {
            "engine": ColocationConfig.from_dict,
            "mask": MaskConfig.from_dict,
            "validation": lambda v: ExpectationConfig.from_dict(v or {}, box),
        }
        return cls(**_parse_parts("colocation", params, parts))


@dataclass(frozen=True)
class ScoringSection:
    """``params:scoring``: the scores, their parallel blocks, the context features, the
    descriptive analysis and the validation suite of ``map_scores``."""

    scores: ScoreConfig
    block_maps: int
    features: FeatureConfig
    analysis: AnalysisConfig
    validation: ScoreSuiteConfig

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None) -> ScoringSection:
        """Parse every sub-section (problems of all of them in one :class:`ParameterError`).

        Args:
            params: The ``scoring`` section.

        Returns:
            The parsed section.

        Raises:
            ParameterError: Listing every problem.
        """
        parts: dict[str, Callable[[Any], object]] = {
            "scores": ScoreConfig.from_dict,
            "block_maps": _positive_int("scoring.block_maps", 48),
            "features": FeatureConfig.from_dict,
            "analysis": AnalysisConfig.from_dict,
            "validation": ScoreSuiteConfig.from_dict,
        }
        return cls(**_parse_parts("scoring", params, parts))


def _fraction(name: str, default: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        value = default if value is None else value
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
        return float(value)

    return parse


def _unet(params: Any) -> UNetConfig:
    """The architecture; its input channels are the models' (not a parameter)."""
    if isinstance(params, Mapping) and "in_channels" in params:
        raise ValueError(
            f"training.unet.in_channels is not a parameter: the inputs are the "
            f"{len(INPUT_CHANNELS)} channels {list(INPUT_CHANNELS)}"
        )
    if params is not None and not isinstance(params, Mapping):
        raise ValueError(f"training.unet must be a mapping, got {params!r}")
    try:
        return UNetConfig.from_dict({**(params or {}), "in_channels": len(INPUT_CHANNELS)})
    except ValueError as err:
        raise ValueError(str(err).replace("unet.", "training.unet.")) from None


def _tuning(params: Any) -> TuningConfig:
    config = TuningConfig.from_dict(params, section="training.tuning")
    unknown = sorted(set(config.space) - set(TUNABLE))
    if unknown:
        raise ValueError(
            f"training.tuning.space: {unknown} cannot be tuned; known: {list(TUNABLE)}"
        )
    return config


def _score_weight(value: Any) -> float:
    value = 1.0 if value is None else value
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"training.score_weight must be a number >= 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class BaselineConfig:
    """``training.baselines``: the inputs of the baselines, all from the IMERG side.

    Attributes:
        covariates: Columns of the single-covariate baselines.
        features: Columns of the gradient-boosting baseline (``None``: every numeric
            IMERG-side column of the whole-box features).
    """

    covariates: tuple[str, ...] = DEFAULT_COVARIATES
    features: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        try:
            require_imerg_side(self.covariates, "training.baselines.covariates")
            require_imerg_side(self.features or (), "training.baselines.features")
        except KeyError as err:
            raise ValueError(f"training.baselines: {err.args[0]}") from None

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None) -> BaselineConfig:
        """Build from ``training.baselines``.

        Raises:
            ValueError: An unknown key, or a column that is not from the IMERG side
                (``RadarSideInputError`` names it and its source).
        """
        return dataclass_from_params(cls, params, section="training.baselines")


@dataclass(frozen=True)
class TrainingSection:
    """``params:training``: the split, the U-Net and its loop, the tuning, the intervals
    and the baselines of the ``training`` pipeline."""

    split: SplitConfig
    unet: UNetConfig
    loop: TrainConfig
    score_weight: float
    tuning: TuningConfig
    coverage: float
    baselines: BaselineConfig

    @property
    def recipe(self) -> UNetRecipe:
        """The U-Net's architecture, loop and loss weight before tuning."""
        return UNetRecipe(unet=self.unet, loop=self.loop, score_weight=self.score_weight)

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None) -> TrainingSection:
        """Parse every sub-section (problems of all of them in one :class:`ParameterError`).

        Args:
            params: The ``training`` section.

        Returns:
            The parsed section.

        Raises:
            ParameterError: Listing every problem.
        """
        parts: dict[str, Callable[[Any], object]] = {
            "split": SplitConfig.from_dict,
            "unet": _unet,
            "loop": lambda v: TrainConfig.from_dict(v, section="training.loop"),
            "score_weight": _score_weight,
            "tuning": _tuning,
            "coverage": _fraction("training.coverage", 0.8),
            "baselines": BaselineConfig.from_dict,
        }
        return cls(**_parse_parts("training", params, parts))


def _autoencoder(params: Any) -> AutoencoderConfig:
    """The architecture; its input channels and map shape come from the data."""
    if params is not None and not isinstance(params, Mapping):
        raise ValueError(f"representation.autoencoder must be a mapping, got {params!r}")
    for key in ("in_channels", "map_shape"):
        if key in (params or {}):
            raise ValueError(
                f"representation.autoencoder.{key} is not a parameter: the inputs are the "
                f"{len(INPUT_CHANNELS)} channels {list(INPUT_CHANNELS)} of the IMERG cube's grid"
            )
    return AutoencoderConfig.from_dict(
        {**(params or {}), "in_channels": len(INPUT_CHANNELS)},
        section="representation.autoencoder",
    )


def _autoencoder_tuning(params: Any) -> TuningConfig:
    config = TuningConfig.from_dict(params, section="representation.tuning")
    unknown = sorted(set(config.space) - set(AUTOENCODER_TUNABLE))
    if unknown:
        raise ValueError(
            f"representation.tuning.space: {unknown} cannot be tuned; "
            f"known: {list(AUTOENCODER_TUNABLE)}"
        )
    return config


@dataclass(frozen=True)
class RepresentationSection:
    """``params:representation``: the autoencoder, its loop and its tuning
    (the ``representation`` pipeline; the split is ``training.split``'s)."""

    autoencoder: AutoencoderConfig
    loop: TrainConfig
    tuning: TuningConfig

    @property
    def recipe(self) -> AutoencoderRecipe:
        """The autoencoder's architecture and loop before tuning."""
        return AutoencoderRecipe(autoencoder=self.autoencoder, loop=self.loop)

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None) -> RepresentationSection:
        """Parse every sub-section (problems of all of them in one :class:`ParameterError`).

        Raises:
            ParameterError: Listing every problem.
        """
        parts: dict[str, Callable[[Any], object]] = {
            "autoencoder": _autoencoder,
            "loop": lambda v: TrainConfig.from_dict(v, section="representation.loop"),
            "tuning": _autoencoder_tuning,
        }
        return cls(**_parse_parts("representation", params, parts))


def _cluster_counts(params: Any) -> tuple[int, ...]:
    """``clustering.selection``: the numbers of clusters whose k-means silhouette is reported."""
    params = [2, 3, 4, 6, 8] if params is None else params
    if (
        not isinstance(params, list | tuple)
        or not params
        or any(isinstance(k, bool) or not isinstance(k, int) or k < 2 for k in params)
    ):
        raise ValueError(
            f"clustering.selection must be a list of cluster counts >= 2, got {params!r}"
        )
    return tuple(params)


@dataclass(frozen=True)
class ClusteringSection:
    """``params:clustering``: the three methods, the loop that fine-tunes the autoencoder
    for DEC and DESOM, the labelling and the range of cluster counts reported
    (the ``clustering`` pipeline)."""

    kmeans: KMeansConfig
    dec: DECConfig
    desom: DESOMConfig
    loop: TrainConfig
    labelling: LabelConfig
    selection: tuple[int, ...]

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None) -> ClusteringSection:
        """Parse every sub-section (problems of all of them in one :class:`ParameterError`).

        Raises:
            ParameterError: Listing every problem.
        """
        parts: dict[str, Callable[[Any], object]] = {
            "kmeans": lambda v: KMeansConfig.from_dict(v, section="clustering.kmeans"),
            "dec": lambda v: DECConfig.from_dict(v, section="clustering.dec"),
            "desom": lambda v: DESOMConfig.from_dict(v, section="clustering.desom"),
            "loop": lambda v: TrainConfig.from_dict(v, section="clustering.loop"),
            "labelling": lambda v: LabelConfig.from_dict(v, section="clustering.labelling"),
            "selection": _cluster_counts,
        }
        return cls(**_parse_parts("clustering", params, parts))


_BOX_KEYS = ("lat_min", "lat_max", "lon_min", "lon_max")


def _box(params: Any) -> Box:
    """The box: exactly its four edges (a typo such as ``lat_mn`` is an error)."""
    if not isinstance(params, Mapping):
        raise ValueError(f"box must be a mapping of {list(_BOX_KEYS)}, got {params!r}")
    unknown = sorted(set(params) - set(_BOX_KEYS))
    if unknown:
        raise ValueError(f"Unknown box parameters {unknown}; known: {sorted(_BOX_KEYS)}")
    for key in _BOX_KEYS:
        value = params.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"box.{key} must be a number (degrees), got {value!r}")
    return Box.from_dict(dict(params))


def _demo(params: Mapping[str, Any] | None, box: Box) -> WorldConfig:
    return WorldConfig.from_dict({**(params or {}), "box": box})


def _target(params: Mapping[str, Any] | None, scoring: ScoringSection) -> TargetConfig:
    target = TargetConfig.from_dict(params)
    target.check_computed_by(scoring.scores)
    return target


@dataclass(frozen=True)
class ParameterSection:
    """How one top-level section is parsed.

    Attributes:
        parse: Called with the section's value, then the parsed value of each of
            ``requires``; returns the typed config, raises ``ValueError`` on a bad value.
        requires: Sections whose parsed value ``parse`` needs (the box for the demo world);
            the section is not parsed when one of them failed (its problem is already
            reported).
    """

    parse: Callable[..., object]
    requires: tuple[str, ...] = ()


#: Every top-level parameter section, in parsing order (a section after those it requires).
SECTIONS: dict[str, ParameterSection] = {
    "box": ParameterSection(_box),
    "demo": ParameterSection(_demo, requires=("box",)),
    "ingestion": ParameterSection(IngestionConfig.from_dict),
    "colocation": ParameterSection(ColocationSection.from_dict, requires=("box",)),
    "scoring": ParameterSection(ScoringSection.from_dict),
    "target": ParameterSection(_target, requires=("scoring",)),
    "training": ParameterSection(TrainingSection.from_dict),
    "representation": ParameterSection(RepresentationSection.from_dict),
    "clustering": ParameterSection(ClusteringSection.from_dict),
    "inference": ParameterSection(InferenceConfig.from_dict),
    "reporting": ParameterSection(ReportConfig.from_dict),
    "execution": ParameterSection(ExecutorConfig.from_dict),
}


def validate_parameters(params: Mapping[str, Any]) -> dict[str, object]:
    """Parse every top-level parameter section; fail once, listing every problem.

    Args:
        params: The merged parameters (Kedro's ``parameters``, runtime ``--params``
            included).

    Returns:
        The typed config of every section, by section name.

    Raises:
        ParameterError: Naming every unknown top-level section (with the close match) and
            every invalid value (``section.key`` and the value).
    """
    problems = [_unknown("", key, list(SECTIONS)) for key in sorted(set(params) - set(SECTIONS))]
    parsed: dict[str, object] = {}
    for name, section in SECTIONS.items():
        if any(r not in parsed for r in section.requires):
            continue
        try:
            parsed[name] = section.parse(params.get(name), *(parsed[r] for r in section.requires))
        except (ValueError, TypeError) as err:
            problems.extend(_problem(name, err))
    if problems:
        raise ParameterError(problems)
    return parsed
