"""The domain library never imports Kedro: only pipelines and catalog datasets do."""

from __future__ import annotations

import json
import subprocess
import sys

DOMAIN = [
    "rainscore.grids",
    "rainscore.io",
    "rainscore.synthetic",
    "rainscore.ingest",
    "rainscore.colocate",
    "rainscore.colocate.pairs",
    "rainscore.validation",
    "rainscore.scores",
    "rainscore.analysis",
    "rainscore.processes",
]

_PROBE = """
import importlib, json, sys
found = {}
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
    found[name] = sorted(m for m in sys.modules if m == "kedro" or m.startswith("kedro."))
print(json.dumps(found))
"""


def test_domain_packages_do_not_import_kedro() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(DOMAIN)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = json.loads(out)
    offenders = {name: mods for name, mods in found.items() if mods}
    assert offenders == {}, f"first domain module that pulled Kedro in: {offenders}"
