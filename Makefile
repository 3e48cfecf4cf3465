# rainscore — the two commands:
#   make demo   set up .venv, install, write the synthetic demo world, run the default pipeline
#               (it ends with the HTML report, the tracked MLflow runs and the lineage build)
#   make test   set up .venv, install, run the test suite
# Everything else here is a helper of those two.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# No network at run time: no telemetry, no analytics.
export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export MPLBACKEND := Agg
# Two cores here and in CI: one BLAS/OpenMP thread per process avoids oversubscription.
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: demo test install lint viz clean-data

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/kedro run --pipelines=demo
	$(BIN)/kedro run
	$(BIN)/kedro viz build --include-previews

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

viz: $(STAMP)
	$(BIN)/kedro viz build --include-previews

clean-data:
	find data -type f ! -name .gitkeep -delete
