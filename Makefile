# alphalab — the README's commands. Every target sets up .venv first (idempotent).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.alphalab-installed
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup repro test test-fast dashboard bench lint format docs notebooks

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11) on PATH; set PYTHON=..."; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	$(BIN)/python -c "from alphalab.pipeline import ensure_kernel; ensure_kernel()"
	@touch $(STAMP)

setup: $(STAMP) ## create .venv and install the pinned environment

repro: setup ## run the whole pipeline (default study, offline)
	$(BIN)/dvc repro

test: setup ## run every test: unit, reference, integration, notebooks
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-fast: setup ## skip tests marked slow
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

dashboard: setup ## serve the reviewer dashboard on http://127.0.0.1:8866
	$(BIN)/voila notebooks/dashboard/ --no-browser --port=8866 --Voila.ip=127.0.0.1 --MappingKernelManager.cull_idle_timeout=300 --MappingKernelManager.cull_interval=60

bench: setup ## engine benchmarks against peers (writes benchmarks/results/latest.json)
	$(BIN)/python benchmarks/bench_engine.py

docs: setup ## API docs (Sphinx, warnings are errors) + user guide → docs/_build/html
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

lint: setup ## ruff lint + format check, mypy on src, notebooks in sync with their sources
	$(BIN)/ruff check src tests tools benchmarks docker docs/conf.py
	$(BIN)/ruff format --check src tests tools benchmarks docker docs/conf.py
	$(BIN)/mypy src/alphalab
	$(BIN)/python tools/build_notebooks.py --check

format: setup
	$(BIN)/ruff format src tests tools benchmarks docker docs/conf.py
	$(BIN)/ruff check --fix src tests tools benchmarks docker docs/conf.py

notebooks: setup ## regenerate notebooks/*.ipynb from tools/notebooks/*.py
	$(BIN)/python tools/build_notebooks.py
