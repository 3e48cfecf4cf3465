"""One IMERG run vocabulary: ``imerg_run`` with ``early``/``late``/``final`` (``auto`` for
ingestion), in every parameter file and config, names built where they are parsed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from rainscore.ingest import IngestionConfig
from rainscore.io.imerg_filename import IMERG_RUNS, parse_imerg_filename
from rainscore.synthetic import WorldConfig
from rainscore.synthetic.imerg_file import imerg_relpath

CONF = Path(__file__).resolve().parents[1] / "conf" / "base"


def test_parameter_files_name_the_run_imerg_run() -> None:
    ingestion = yaml.safe_load((CONF / "parameters_ingestion.yml").read_text())["ingestion"]
    demo = yaml.safe_load((CONF / "parameters_demo.yml").read_text())["demo"]
    assert "imerg_product" not in ingestion
    assert ingestion["imerg_run"] in ("auto", *IMERG_RUNS)
    assert demo["imerg_run"] in IMERG_RUNS
    assert IngestionConfig.from_dict({"imerg_run": demo["imerg_run"]}).imerg_run == "final"


def test_ingestion_run_values() -> None:
    assert IngestionConfig.from_dict({}).imerg_run == "auto"
    assert IngestionConfig.from_dict({"imerg_run": "early"}).imerg_run == "early"
    with pytest.raises(ValueError, match=r"ingestion.imerg_run must be one of .* got 'Final'"):
        IngestionConfig.from_dict({"imerg_run": "Final"})
    with pytest.raises(ValueError, match="imerg_product"):
        IngestionConfig.from_dict({"imerg_product": "auto"})


def test_world_run_values() -> None:
    assert WorldConfig.from_dict({"imerg_run": "late"}).imerg_run == "late"
    with pytest.raises(ValueError, match=r"imerg_run must be one of .* got 'auto'"):
        WorldConfig.from_dict({"imerg_run": "auto"})


@pytest.mark.parametrize("run", IMERG_RUNS)
def test_world_file_names_parse_back_to_their_run(run: str) -> None:
    start = np.datetime64("2024-06-10T23:30")
    info = parse_imerg_filename(imerg_relpath(start, run, "V07B"))
    assert (info.run, info.version) == (run, "V07B")
    assert np.datetime64(info.start) == start
