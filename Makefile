# Quick start: `make demo` (install + run the baseline scenario on the embedded region, outputs in
# outputs/) and `make test` (install + run the whole test suite). Both create a local virtual
# environment in .venv from PyPI; only Python >= 3.11 and make are needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SCENARIO ?= scenarios/baseline.yaml
OUT      ?= outputs/baseline

.PHONY: demo test install install-test lint bench check dist clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/schoolplan run --scenario $(SCENARIO) --out $(OUT)

check: install
	$(BIN)/schoolplan data check

test: install-test
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check .

bench: install-test
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/forecast_bench.py
	$(BIN)/python benchmarks/orlib.py ../shared/benchmarks/orlib
	$(BIN)/python benchmarks/vs_spopt.py
	$(BIN)/python benchmarks/city_bench.py
	$(BIN)/python benchmarks/map_bench.py

# A wheel in dist/ that carries the embedded region and the shipped scenarios (package data
# `schoolplan_data`): `pip install dist/*.whl` anywhere, then `schoolplan run --scenario baseline`.
dist: install-test
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w dist .

clean:
	rm -rf $(VENV) outputs test-output build dist
