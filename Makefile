# gne-reports: every setup step lives here, so a fresh machine needs only `make report` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= small
WAREHOUSE ?= data/gne.duckdb
PLAN   ?= parameters/weekly.yaml
# The deterministic warehouse the nbval references were made on (rebuilt when the generator changes).
TEST_WAREHOUSE := build/test/gne-small-seed7.duckdb
NBVAL  := $(BIN)/pytest --nbval tests/notebooks --nbval-sanitize-with tests/notebooks/sanitize.cfg \
          --nbval-kernel-name python3 -p no:cacheprovider

.PHONY: help setup browser postgres warehouse report test nbval nbval-refresh lint bench clean airflow-test spark-e2e

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,spark,postgres]'
	touch $@

setup: $(STAMP)  ## create .venv and install gnelib with its test, Spark and PostgreSQL extras

browser:  ## install Debian's headless Chromium and its driver (for the browser tests)
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

postgres:  ## install Debian's PostgreSQL server (the PostgreSQL tests start a throwaway cluster with it)
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || { \
		echo "installing postgresql from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

$(WAREHOUSE): | $(STAMP)
	$(BIN)/gne warehouse build --scale $(SCALE) --path $(WAREHOUSE)

warehouse: $(WAREHOUSE)  ## build the demo warehouse if it is missing

report: $(STAMP) $(WAREHOUSE)  ## the main job: the weekly plan for the latest week, ending in reports/index.html
	$(BIN)/gne run $(PLAN)

$(TEST_WAREHOUSE): $(wildcard gnelib/warehouse/*.py) | $(STAMP)
	$(BIN)/gne warehouse build --scale small --seed 7 --path $@

test: $(STAMP) browser postgres $(TEST_WAREHOUSE)  ## set up and run the whole test suite (what CI runs)
	$(BIN)/ruff check gnelib tests bench
	GNE_TEST_WAREHOUSE=$(abspath $(TEST_WAREHOUSE)) $(BIN)/pytest
	GNE_WAREHOUSE=$(abspath $(TEST_WAREHOUSE)) $(NBVAL)

nbval: $(STAMP) $(TEST_WAREHOUSE)  ## re-execute the templates against their nbval references
	GNE_WAREHOUSE=$(abspath $(TEST_WAREHOUSE)) $(NBVAL)

nbval-refresh: $(STAMP) $(TEST_WAREHOUSE)  ## regenerate the nbval references after an intended change
	GNE_WAREHOUSE=$(abspath $(TEST_WAREHOUSE)) $(BIN)/python tests/notebooks/refresh.py

airflow-test: $(STAMP)  ## the Airflow DAG in real Airflow (pip-installs it into a temporary venv; ~10 minutes)
	$(BIN)/pytest -m airflow tests/airflow_dag

spark-e2e: $(STAMP)  ## the generic templates through `gne run` on Spark vs DuckDB (slow: tens of minutes)
	$(BIN)/pytest -m spark_e2e tests/spark_e2e

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check gnelib tests bench

bench: $(STAMP)  ## print the benchmark figures
	$(BIN)/python bench/warehouse_build.py --scales small,medium
	$(BIN)/python bench/metrics_compute.py
	$(BIN)/python bench/batch_run.py

clean:  ## remove the venv, the demo warehouse and generated reports
	rm -rf $(VENV) data build reports/*/ reports/index.html reports/runs.json
