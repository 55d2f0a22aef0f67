# kzkr-warehouse — everything a user needs, from a fresh clone with only python3, make and git.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := 1
# SQL style of the dbt models (.sqlfluff: dbt templater, DuckDB dialect)
SQLFLUFF := $(BIN)/sqlfluff lint --quiet --disable-progress-bar dbt_project

.PHONY: run test test-ui ui sql docs bench lint report rollback clean env lock

# The environment: created when missing, re-synced when the lock file changes.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

env: $(STAMP)

## make run: build, validate and publish warehouse/kzkr.duckdb
run: $(STAMP)
	$(BIN)/kzkr build

## make test: the whole test suite (what CI runs). The UI test's screenshots go to
## test-artifacts/screenshots (`make test-ui` refreshes the ones in docs/screenshots).
test: $(STAMP)
	$(BIN)/ruff check pipelines tests
	$(SQLFLUFF)
	sh scripts/ensure_browser.sh
	KZKR_SCREENSHOT_DIR=$${KZKR_SCREENSHOT_DIR:-$(CURDIR)/test-artifacts/screenshots} $(BIN)/pytest

## make test-ui: only the Dagster UI test in headless Chromium; screenshots into docs/screenshots
test-ui: $(STAMP)
	sh scripts/ensure_browser.sh
	$(BIN)/pytest -m ui

## make ui: the Dagster UI on http://127.0.0.1:3000 with the schedule and sensor
ui: $(STAMP)
	$(BIN)/python -m pipelines.ui

## make sql: an interactive read-only SQL shell on the published warehouse
sql: $(STAMP)
	$(BIN)/kzkr sql

## make docs: the dbt docs site (generated into dbt_project/target, served on 127.0.0.1:8080)
docs: $(STAMP)
	$(BIN)/python -m pipelines.docs

report: $(STAMP)
	$(BIN)/kzkr report

bench: $(STAMP)
	$(BIN)/python -m pipelines.bench

lint: $(STAMP)
	$(BIN)/ruff check pipelines tests
	$(BIN)/ruff format --check pipelines tests
	$(SQLFLUFF)

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache

## make lock: re-resolve pyproject's ranges into requirements.lock (needs the package index)
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet -e '.[dev]' setuptools==65.5.0 wheel==0.48.0
	{ echo "# Exact versions installed and tested on this project's machines (pip freeze). Regenerate with: make lock"; \
	  echo "setuptools==65.5.0"; echo "wheel==0.48.0"; \
	  .lockenv/bin/python -m pip freeze --exclude-editable | grep -v -e '^setuptools==' -e '^wheel=='; } > requirements.lock
	rm -rf .lockenv
