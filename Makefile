# Quick start: `make run` checks the bundled example series, `make test` runs the suite.
# Both create .venv and install reviewbot (editable) with its test extras when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE ?= corpus/memdev/v1.mbox

.PHONY: run test lint typecheck venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/reviewbot show $(EXAMPLE)

test: $(STAMP)
	$(BIN)/ruff check reviewbot tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
