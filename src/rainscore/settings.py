"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

from rainscore.hooks import ParameterValidationHooks

# Every parameter section is parsed and validated before any node runs.
HOOKS = (ParameterValidationHooks(),)

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment (conf/local, conf/dask) overrides single keys of a parameter group
    # (e.g. colocation.engine.executor) instead of replacing the whole group.
    "merge_strategy": {"parameters": "soft"},
}
