"""Suite-wide test configuration.

No network (telemetry and analytics off) and one BLAS/torch thread per process: on two
cores, oversubscribed threads make torch and numpy many times slower.
"""

from __future__ import annotations

import os

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MPLBACKEND", "Agg")
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from rainscore.synthetic import SyntheticWorld, WorldConfig  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
TINY_BOX = {"lat_min": 45.0, "lat_max": 46.0, "lon_min": 1.0, "lon_max": 2.5}
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def mlflow_store(tmp_path_factory) -> Iterator[str]:
    """Every Kedro session of the suite tracks its runs into one temporary MLflow store.

    ``conf/base/mlflow.yml`` reads ``MLFLOW_TRACKING_URI`` before its default (a store
    under the project): no test writes ``mlflow.db`` or ``data/mlflow`` into the checkout,
    or logs to a server set in the developer's shell. Subprocesses inherit it. Tests of
    the tracking itself point it at a store of their own.
    """
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        yield uri


@pytest.fixture(scope="session")
def test_data_dir() -> Path:
    """Small real files committed with the tests (IMERG samples, MeteoNet extract)."""
    return TEST_DATA


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """``../shared/data`` beside the checkout; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_box() -> dict[str, float]:
    """The 10 × 15-cell box of the tiny world."""
    return dict(TINY_BOX)


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory) -> Path:
    """Six rainy hours (orographic, then convective) over a 10 × 15-cell box, written once."""
    root = tmp_path_factory.mktemp("world")
    config = WorldConfig.from_dict(
        {"start": "2024-06-10T12:00", "days": 0.25, "seed": 7, "box": TINY_BOX, "margin_km": 10}
    )
    SyntheticWorld(config).write(root, progress=False)
    return root
