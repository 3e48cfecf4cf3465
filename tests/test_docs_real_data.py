"""``docs/real-data.md``, steps 2 to 4, followed in a copy of the project on the tiny world.

The page's ``conf/local/catalog.yml`` and ``conf/local/parameters.yml`` are written as a
reader would (their folders pointed at the tiny world's archives, the box at its box), then
``kedro run --pipelines=ingestion`` runs as the page says, and the keys of
``ingestion_report.json`` the page tells the reader to look at are checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "real-data.md"
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def page_block(header: str) -> dict:
    """The first code block of the page that starts with the comment ``# <header>``."""
    block = next(b for b in _FENCE.findall(PAGE.read_text()) if b.startswith(f"# {header}\n"))
    return yaml.safe_load(block)


def test_the_steps_ingest_ones_own_archives(tmp_path, tiny_world, tiny_box) -> None:
    project = tmp_path / "clone"
    shutil.copytree(REPO / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    (project / "src").mkdir()  # Kedro's bootstrap wants one; rainscore is installed
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy2(REPO / name, project / name)
    catalog = page_block("conf/local/catalog.yml")
    assert set(catalog) == {"imerg_raw", "radar_raw"}
    catalog["imerg_raw"]["path"] = str(tiny_world / "imerg")
    catalog["radar_raw"]["path"] = str(tiny_world / "radar")
    (project / "conf" / "local" / "catalog.yml").write_text(yaml.safe_dump(catalog))
    params = page_block("conf/local/parameters.yml")
    params["box"] = dict(tiny_box)
    params["execution"]["progress"] = False
    (project / "conf" / "local" / "parameters.yml").write_text(yaml.safe_dump(params))

    run = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines=ingestion"],
        cwd=project,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    folder = project / "data" / "08_reporting" / "ingestion_report.json"
    (version,) = folder.iterdir()
    report = json.loads((version / "ingestion_report.json").read_text())
    # the keys step 4 tells the reader to look at
    assert report["imerg"]["read"] == 12 and report["imerg"]["missing_times"] == []
    assert report["imerg"]["skipped"] == [] and report["radar"]["skipped"] == []
    assert report["radar"]["ok"] == 72  # six 5-minute mosaics per half hour
