# The two commands the README promises. Both create ./.venv on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck pytest test-compiled compiled bench clean run

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	# pyas2lib (a test peer) pins oscrypto 1.3.0, which cannot detect OpenSSL >= 3.0.10;
	# elements-oscrypto carries the unreleased upstream fix (same import name).
	$(VENV)/bin/pip install --quiet --no-deps --force-reinstall elements-oscrypto==1.4.0b1
	# badx12 (a benchmark peer) pins click==7.0 for its command line only, which
	# schemathesis (click 8) cannot share; the library needs just dicttoxml (in dev).
	$(VENV)/bin/pip install --quiet --no-deps badx12==0.2.2
	touch $(STAMP)

## test: lint, type-check, run the whole test suite, then the translator tests again
## against the mypyc-compiled build (what the Docker image ships)
test: $(STAMP) lint typecheck pytest test-compiled

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m schemas.x12.build --check
	$(VENV)/bin/python -m schemas.edifact.build --check
	$(VENV)/bin/python -m translators.records_schema schemas/records --check
	$(VENV)/bin/python -m translators.record_data --check

typecheck: $(STAMP)
	$(VENV)/bin/mypy

## the suite runs on PYTEST_WORKERS processes (pytest-xdist): much of it waits on
## subprocesses, servers and databases, so two workers keep both CPUs of a CI machine busy
PYTEST_WORKERS ?= 2

pytest: $(STAMP)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS)

## compiled: the translators compiled with mypyc into build/compiled (about a minute)
compiled: $(STAMP)
	rm -rf build/compiled
	EDIGATE_MYPYC=1 $(VENV)/bin/pip install --quiet --no-build-isolation --no-deps \
	  --target build/compiled .

test-compiled: compiled
	EDIGATE_EXPECT_COMPILED=1 PYTHONPATH=build/compiled $(VENV)/bin/pytest -p no:cacheprovider \
	  -n $(PYTEST_WORKERS) tests/translators tests/golden

## bench: the X12 benchmark against pyx12 and badx12 (prints numbers; no thresholds)
bench: $(STAMP)
	$(VENV)/bin/python bench/x12.py --sizes 1,10,100

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache

## run: the gateway with its demo: SQLite under ./var, demo partners and keys, sample
## traffic, then serving on http://$(HOST):$(PORT) (default 127.0.0.1:8000; OpenAPI at
## /docs) until Ctrl-C: `make run PORT=8001` when 8000 is taken
PORT ?= 8000
HOST ?= 127.0.0.1
run: $(STAMP)
	$(VENV)/bin/edigate demo --serve --host $(HOST) --port $(PORT)
