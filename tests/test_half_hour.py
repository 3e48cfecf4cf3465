"""The half hour's length has one home, :mod:`rainscore.half_hour`."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

import rainscore
from rainscore.colocate.pairing import floor_half_hour
from rainscore.half_hour import HALF_HOUR, HALF_HOUR_MINUTES

PACKAGE_ROOT = Path(rainscore.__file__).parent


def test_the_length_is_thirty_minutes() -> None:
    assert HALF_HOUR_MINUTES == 30
    assert np.timedelta64(30, "m") == HALF_HOUR
    start = floor_half_hour(np.array(["2024-05-01T10:59:59"], dtype="datetime64[ns]"))
    assert start[0] == np.datetime64("2024-05-01T10:30")


def test_no_other_module_defines_it() -> None:
    definers: set[str] = set()
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        for node in ast.parse(path.read_text(), filename=str(path)).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if names & {"HALF_HOUR", "HALF_HOUR_MINUTES"}:
                definers.add(path.relative_to(PACKAGE_ROOT).as_posix())
    assert definers == {"half_hour.py"}
