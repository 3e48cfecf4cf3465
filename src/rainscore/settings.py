"""Kedro project settings."""

import warnings

from kedro.config import OmegaConfigLoader

from rainscore.hooks import MissingInputsHooks, ParameterValidationHooks

# Kedro's config loader registers its resolvers with OmegaConf.register_new_resolver(),
# deprecated in OmegaConf 2.4: every run printed that upstream warning three times, which
# users cannot act on. Only that warning, raised from Kedro's config loader, is hidden.
warnings.filterwarnings(
    "ignore",
    message=r"register_new_resolver\(\) is deprecated",
    category=UserWarning,
    module=r"kedro\.config\.omegaconf_config",
)

# Every parameter section is parsed and validated before any node runs, then the run's
# inputs that other pipelines make are checked (pluggy calls the last hook registered first).
HOOKS = (MissingInputsHooks(), ParameterValidationHooks())

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment (conf/local, conf/dask) overrides single keys of a parameter group
    # (e.g. execution.executor) instead of replacing the whole group.
    "merge_strategy": {"parameters": "soft"},
}

# kedro-mlflow registers its hook through an entry point; it stays off until the project's
# tracking is configured (issue 14, conf/base/mlflow.yml).
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlflow",)
