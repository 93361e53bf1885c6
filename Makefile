# Helpforce: `make demo` runs the embedded desk, `make test` runs every check CI runs.
# The environment passes through untouched: set DATABASE_URL / REDIS_URL to test against
# PostgreSQL and Redis, leave them unset for the embedded default.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Extra arguments: `make test PYTEST_ARGS='-k seed'`, `make demo DEMO_ARGS='--port 8001'`.
PYTEST_ARGS ?=
DEMO_ARGS ?=
# `make test CHECKS=0` runs pytest alone: CI's second pass tests the same tree on PostgreSQL,
# where ruff, mypy and the migrations check would only repeat the first pass's verdict.
CHECKS ?= 1

.DEFAULT_GOAL := help
.PHONY: help venv install demo test faults lint fmt bench clean

help:
	@echo "make demo   - install, migrate, seed the demo data and run the embedded desk"
	@echo "make test   - install, then lint, format check, mypy, migrations check, pytest"
	@echo "make faults - the fault suite alone (tests/faults), printing its figures"
	@echo "make lint   - ruff check, ruff format --check, mypy"
	@echo "make fmt    - ruff format and ruff check --fix"
	@echo "make bench  - run bench/ingest.py (needs DATABASE_URL)"
	@echo "make clean  - remove caches, collected static files and build leftovers"

venv install: $(STAMP)

$(PY):
	@test -n "$(PYTHON)" || { echo "No python3.11 or python3 on PATH." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Helpforce needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

# Re-installs only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(PY)
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "$(VENV) has Python " + sys.version.split()[0] + "; Helpforce needs 3.11 or newer: remove $(VENV) and run make again")'
	$(PY) -m pip install --disable-pip-version-check --quiet -e '.[dev]'
	@touch $@

demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput
	$(PY) manage.py demo $(DEMO_ARGS)

test: $(STAMP)
ifneq ($(CHECKS),0)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .
	$(PY) manage.py makemigrations --check --dry-run
endif
	$(PY) -m pytest $(PYTEST_ARGS)

# `make test` runs these too; this prints each scenario's JSON line as it ends. The PostgreSQL
# scenario needs DATABASE_URL (and is skipped without it).
faults: $(STAMP)
	$(PY) -m pytest -s -q tests/faults $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

fmt: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(STAMP)
	@test -n "$$DATABASE_URL" || { echo "make bench needs DATABASE_URL=postgres://..." >&2; exit 2; }
	$(PY) bench/ingest.py

clean:
	rm -rf staticfiles .mypy_cache .ruff_cache .pytest_cache build *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
