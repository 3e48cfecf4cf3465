"""``kedro`` run by hand (without the Makefile's environment) prints only the project's own
messages: no telemetry consent text or upload error, no upstream OmegaConf deprecation
warning, and the tracked ``pyproject.toml`` is never rewritten by kedro-telemetry."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
KEDRO = Path(sys.executable).with_name("kedro")


def test_telemetry_is_declined_in_the_project() -> None:
    assert yaml.safe_load((REPO_ROOT / ".telemetry").read_text()) == {"consent": False}


def test_kedro_by_hand_is_quiet_and_leaves_pyproject_alone(tmp_path: Path) -> None:
    """A copy of the project (its tracked configuration) where ``kedro`` creates a session,
    a context and the catalog: what kedro-telemetry and the config loader hook into."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", ".telemetry"):
        if (REPO_ROOT / name).exists():
            shutil.copy(REPO_ROOT / name, project / name)
    shutil.copytree(REPO_ROOT / "conf" / "base", project / "conf" / "base")
    (project / "conf" / "local").mkdir()
    (project / "src").mkdir()  # the package itself is the installed one
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KEDRO_DISABLE_TELEMETRY", "DO_NOT_TRACK", "PYTHONWARNINGS")
    }
    env["COLUMNS"] = "200"  # one log record per line
    done = subprocess.run(
        [str(KEDRO), "catalog", "list-patterns"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "anonymous usage data" not in output
    assert "ConnectionError" not in output
    assert "Heap" not in output
    assert "register_new_resolver" not in output
    assert (project / "pyproject.toml").read_bytes() == (REPO_ROOT / "pyproject.toml").read_bytes()
