"""``docs/real-data.md``, steps 2 to 6, followed in a copy of the project on the tiny world.

The page's ``conf/local/catalog.yml`` and ``conf/local/parameters.yml`` are written as a
reader would (their folders pointed at the tiny world's archives, the box at its box), then
the ingestion, colocation and scoring run as the page says (in one ``kedro run``), and the
reports and keys the page tells the reader to look at are checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "real-data.md"
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def page_block(header: str) -> dict:
    """The first code block of the page that starts with the comment ``# <header>``."""
    block = next(b for b in _FENCE.findall(PAGE.read_text()) if b.startswith(f"# {header}\n"))
    return yaml.safe_load(block)


def _latest(path: Path) -> Path:
    """The file of the one version of a versioned dataset at ``path``."""
    (version,) = path.iterdir()
    return version / path.name


def test_the_steps_score_ones_own_archives(tmp_path, tiny_world, tiny_box) -> None:
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
        [sys.executable, "-m", "kedro", "run", "--pipelines=ingestion,colocation,scoring"],
        cwd=project,
        env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    reporting = project / "data" / "08_reporting"
    report = json.loads(_latest(reporting / "ingestion_report.json").read_text())
    # step 4: the keys the reader is told to look at
    assert report["imerg"]["read"] == 12 and report["imerg"]["missing_times"] == []
    assert report["imerg"]["skipped"] == [] and report["radar"]["skipped"] == []
    assert report["radar"]["ok"] == 72  # six 5-minute mosaics per half hour
    # step 5: the validation report and the bad inputs (none here)
    assert "**PASSED**" in (reporting / "colocation" / "validation.md").read_text()
    assert pd.read_parquet(_latest(reporting / "bad_inputs.parquet")).empty
    # step 6: the score table, its validation and the analysis with its recommendation
    scores = pd.read_parquet(_latest(project / "data" / "04_feature" / "map_scores.parquet"))
    assert len(scores) == 12 and "fss_t0.5_w9" in scores
    assert "**PASSED**" in (reporting / "scoring" / "map_scores_validation.md").read_text()
    analysis = (reporting / "scoring" / "scoring_analysis.md").read_text()
    assert "Recommended by the rule" in analysis and "`target.score`" in analysis
