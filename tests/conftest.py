"""Suite-wide test configuration.

No network (telemetry and analytics off) and one BLAS/torch thread per process: on two
cores, oversubscribed threads make torch and numpy many times slower.
"""

from __future__ import annotations

import os

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("MPLBACKEND", "Agg")
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from rainscore.synthetic import SyntheticWorld, WorldConfig  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
TINY_BOX = {"lat_min": 45.0, "lat_max": 46.0, "lon_min": 1.0, "lon_max": 2.5}
TEST_DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


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
