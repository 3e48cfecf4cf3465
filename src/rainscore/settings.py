"""Kedro project settings."""

import os
import warnings
from pathlib import Path

from kedro.config import OmegaConfigLoader
from kedro.utils import find_kedro_project
from omegaconf.resolvers import oc

from rainscore.hooks import MissingInputsHooks, ParameterValidationHooks, TrackingHooks

# Nothing reaches the network: MLflow's usage telemetry is off (kedro-mlflow imports MLflow
# when the session registers its hook, after this module; DO_NOT_TRACK=1 is not MLflow's
# "true"). An explicit MLFLOW_DISABLE_TELEMETRY in the environment wins.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

# Kedro's config loader registers its resolvers with OmegaConf.register_new_resolver(),
# deprecated in OmegaConf 2.4: every run printed that upstream warning three times, which
# users cannot act on. Only that warning, raised from Kedro's config loader, is hidden.
warnings.filterwarnings(
    "ignore",
    message=r"register_new_resolver\(\) is deprecated",
    category=UserWarning,
    module=r"kedro\.config\.omegaconf_config",
)
# kedro-mlflow registers its "km.random_name" resolver the same way at every session.
warnings.filterwarnings(
    "ignore",
    message=r"register_new_resolver\(\) is deprecated",
    category=UserWarning,
    module=r"kedro_mlflow\.framework\.hooks\.mlflow_hook",
)

# Every parameter section is parsed and validated before any node runs, then the run's
# inputs that other pipelines make are checked (pluggy calls the last hook registered first;
# both run before kedro-mlflow's hook opens the MLflow run). TrackingHooks logs the model
# pipelines' tables and artefacts to that run (docs/tracking.md).
HOOKS = (MissingInputsHooks(), ParameterValidationHooks(), TrackingHooks())


def project_path() -> str:
    """The project's root folder as Kedro finds it from the working directory (``kedro run``
    from a subfolder, a notebook in ``notebooks/``), in POSIX form: the ``${project_path:}``
    of ``conf/base/mlflow.yml``, so that the local MLflow store is the project's wherever
    Kedro starts."""
    return (find_kedro_project(Path.cwd()) or Path.cwd()).resolve().as_posix()


CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment (conf/local, conf/dask) overrides single keys of a parameter group
    # (e.g. execution.executor) instead of replacing the whole group.
    # conf/local/mlflow.yml likewise overrides single keys of conf/base/mlflow.yml (the
    # tracking URI of a shared server) and keeps the others.
    "merge_strategy": {"parameters": "soft", "mlflow": "soft"},
    # ${oc.env:VAR,default} outside credentials: conf/base/mlflow.yml reads the tracking URI
    # from MLFLOW_TRACKING_URI when it is set (tests point it at a temporary store), else
    # the store under ${project_path:}.
    "custom_resolvers": {"oc.env": oc.env, "project_path": project_path},
}
