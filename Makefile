# kzkr-warehouse — everything a user needs, from a fresh clone with only python3, make and git.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The oldest DuckDB the published file must open in (tests/test_published_file.py opens it with this
# CLI): installed beside the environment from its own hash-pinned lock.
OLDEST_DUCKDB      := $(VENV)/duckdb-1.4
OLDEST_DUCKDB_LOCK := requirements-duckdb-1.4.lock
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := 1
# SQL style of the dbt models (.sqlfluff: dbt templater, DuckDB dialect)
SQLFLUFF := $(BIN)/sqlfluff lint --quiet --disable-progress-bar dbt_project

.PHONY: run test test-ui ui sql docs bench synth lint report rollback clean env lock

# The environment: created when missing, re-synced when the lock file changes (uv, hash-checked).
$(STAMP): requirements.lock $(OLDEST_DUCKDB_LOCK) pyproject.toml scripts/env.sh
	PYTHON=$(PYTHON) VENV=$(VENV) sh scripts/env.sh
	VENV=$(VENV) sh scripts/uv.sh pip install --quiet --no-deps --require-hashes --target $(OLDEST_DUCKDB) \
	  -r $(OLDEST_DUCKDB_LOCK)
	@touch $(STAMP)

env: $(STAMP)

## make run: build, validate and publish warehouse/kzkr.duckdb
run: $(STAMP)
	$(BIN)/kzkr build

## make test: the whole test suite (what CI runs). The UI test's screenshots go to
## test-artifacts/screenshots (`make test-ui` refreshes the ones in docs/screenshots).
test: $(STAMP)
	$(BIN)/ruff check pipelines tests tools
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

## make bench: benchmarks (tools/bench, docs/benchmarks.md); BENCH_SCALES=1e5 for a quick run
bench: $(STAMP)
	$(BIN)/python -m tools.bench

## make synth SCALE=1e6 [OUT=dir] [SEED=n]: a synthetic raw directory with SCALE bureau trade rows
synth: $(STAMP)
	$(BIN)/python -m tools.synth --scale "$(SCALE)" $(if $(OUT),--out "$(OUT)") $(if $(SEED),--seed "$(SEED)")

lint: $(STAMP)
	$(BIN)/ruff check pipelines tests tools
	$(BIN)/ruff format --check pipelines tests tools
	$(SQLFLUFF)

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache

## make lock: re-resolve pyproject's ranges into requirements.lock, hash-pinned (needs the package
## index; keeps every pin that still fits, UPGRADE=1 takes the newest). setuptools builds the project,
## uv installs the environment: both are pinned too.
lock: $(STAMP)
	printf 'setuptools>=70.1\nuv>=0.13\n' | VENV=$(VENV) sh scripts/uv.sh pip compile --quiet pyproject.toml - \
	  --extra dev --python-version 3.11 --generate-hashes $(if $(UPGRADE),--upgrade) \
	  --custom-compile-command 'make lock' -o requirements.lock
	echo 'duckdb-cli==1.4.4.post2' | VENV=$(VENV) sh scripts/uv.sh pip compile --quiet - --python-version 3.11 \
	  --generate-hashes --no-header -o $(OLDEST_DUCKDB_LOCK)
	sed -i '1i # The oldest DuckDB CLI the published file must open in (tests/test_published_file.py); installed\n# into .venv/duckdb-1.4 by make env. Regenerate with: make lock' $(OLDEST_DUCKDB_LOCK)
