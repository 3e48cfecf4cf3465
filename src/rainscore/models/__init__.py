"""Models that estimate a map's score from the IMERG side alone: ``rainscore.models``.

A pure library (no Kedro): the training split (:mod:`~rainscore.models.split`), the inputs
read lazily from the stores (:mod:`~rainscore.models.data`), the U-Net
(:mod:`~rainscore.models.unet`), the one training loop (:mod:`~rainscore.models.training`),
the Optuna search (:mod:`~rainscore.models.tuning`), the U-Net's training recipe
(:mod:`~rainscore.models.experiment`), split-conformal intervals
(:mod:`~rainscore.models.intervals`), the metrics and baselines
(:mod:`~rainscore.models.evaluation`) and the model artefacts, safetensors weights and JSON,
never pickle (:mod:`~rainscore.models.artefacts`).
"""

from rainscore.models.artefacts import ModelArtefact, load_artefact, save_artefact
from rainscore.models.data import INPUT_CHANNELS, MapDataset, NormStats, pad_to_multiple
from rainscore.models.evaluation import (
    DEFAULT_COVARIATES,
    Baseline,
    evaluate_baselines,
    evaluation_table,
    fit_baselines,
    pixel_skill,
    regression_metrics,
)
from rainscore.models.experiment import (
    UNetData,
    UNetRecipe,
    best_trial_model,
    imerg_cube_path,
    predict_unet_maps,
    predict_unet_scores,
    store_path,
    train_unet,
    unet_artefact,
    unet_from_artefact,
    unet_objective,
)
from rainscore.models.intervals import SplitConformal, interval_coverage
from rainscore.models.split import SPLITS, SplitConfig, make_split, split_times
from rainscore.models.training import (
    TrainConfig,
    TrainResult,
    fit,
    make_loader,
    pick_device,
    predict,
    seed_everything,
)
from rainscore.models.tuning import (
    Dimension,
    TuningConfig,
    open_study,
    pruning_callback,
    study_summary,
    suggest,
)
from rainscore.models.unet import UNet, UNetConfig, unet_loss, unet_loss_fn

__all__ = [
    "DEFAULT_COVARIATES",
    "INPUT_CHANNELS",
    "SPLITS",
    "Baseline",
    "Dimension",
    "MapDataset",
    "ModelArtefact",
    "NormStats",
    "SplitConfig",
    "SplitConformal",
    "TrainConfig",
    "TrainResult",
    "TuningConfig",
    "UNet",
    "UNetConfig",
    "UNetData",
    "UNetRecipe",
    "best_trial_model",
    "evaluate_baselines",
    "evaluation_table",
    "fit",
    "fit_baselines",
    "imerg_cube_path",
    "interval_coverage",
    "load_artefact",
    "make_loader",
    "make_split",
    "open_study",
    "pad_to_multiple",
    "pick_device",
    "pixel_skill",
    "predict",
    "predict_unet_maps",
    "predict_unet_scores",
    "pruning_callback",
    "regression_metrics",
    "save_artefact",
    "seed_everything",
    "split_times",
    "store_path",
    "study_summary",
    "suggest",
    "train_unet",
    "unet_artefact",
    "unet_from_artefact",
    "unet_loss",
    "unet_loss_fn",
    "unet_objective",
]
