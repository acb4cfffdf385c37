# Quick start: `make run` reviews the bundled example series, `make test` runs the suite.
# Both create .venv and install reviewbot (editable) with its test extras when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE ?= corpus/memdev/v1.mbox
# Debian packages some integration tests drive for real (they skip, saying why, when absent).
SYSDEPS := graphviz git-email

.PHONY: run test lint typecheck pytest eval bench bench-index bench-checkpatch bench-bulk bench-archive venv sysdeps clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@# An editable install is not byte-compiled; do it as a wheel install would, so that a
	@# run with PYTHONDONTWRITEBYTECODE set does not recompile reviewbot every time.
	$(BIN)/python -m compileall -q reviewbot >/dev/null
	touch $(STAMP)

# Best effort: installs the Debian packages when running as root with apt; otherwise says so.
sysdeps:
	@missing=""; for p in $(SYSDEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing:$$missing"; \
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "note: not installed:$$missing (the tests that need them will be skipped)"; fi

# Exit status 1 means "findings", which is what the example is for.
run: $(STAMP)
	$(BIN)/reviewbot check $(EXAMPLE) || test $$? -eq 1

lint: $(STAMP)
	$(BIN)/ruff check reviewbot tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

test: sysdeps lint typecheck pytest

# Score every rule on corpus/ (CI does this through tests/test_corpus.py).
eval: $(STAMP)
	$(BIN)/reviewbot eval

# Ratios against checkpatch.pl and bulk throughput; each prints its figures (see README).
# Each fetches a QEMU tree when REVIEWBOT_QEMU_TREE is not set; BENCH_ARGS go to the script.
bench: bench-index bench-checkpatch bench-bulk

bench-index: $(STAMP)
	$(BIN)/python bench/index_tree.py $(BENCH_ARGS)

bench-checkpatch: $(STAMP)
	$(BIN)/python bench/vs_checkpatch.py $(BENCH_ARGS)

bench-bulk: $(STAMP)
	$(BIN)/python bench/bulk_check.py $(BENCH_ARGS)

# A 20,000-message public-inbox epoch under the temp dir: read, check and mine rates in a
# process pool and on a Dask LocalCluster (127.0.0.1), and an incremental run. No QEMU tree.
bench-archive: $(STAMP)
	$(BIN)/python bench/archive.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
