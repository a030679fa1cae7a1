# gne-reports: every setup step lives here, so a fresh machine needs only `make report` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= small
WAREHOUSE ?= data/gne.duckdb
PLAN   ?= parameters/weekly.yaml
CATALOG ?=
# Every installed package is pinned in requirements.lock (`make lock` refreshes it); EXTRAS as in tools/lock.py.
LOCK   := requirements.lock
EXTRAS := test,spark,postgres
# The deterministic warehouse the nbval references were made on (rebuilt when the generator changes).
TEST_WAREHOUSE := build/test/gne-small-seed7.duckdb
NBVAL  := $(BIN)/pytest --nbval tests/notebooks --nbval-sanitize-with tests/notebooks/sanitize.cfg \
          --nbval-kernel-name python3 -p no:cacheprovider

.PHONY: help setup hooks lock sync-notebooks lab browser poppler postgres warehouse report test nbval nbval-refresh lint bench \
        clean airflow-test spark-e2e

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[$(EXTRAS)]'
	@$(MAKE) --no-print-directory hooks
	touch $@

setup: $(STAMP)  ## create .venv, install gnelib and its test/Spark/PostgreSQL extras at the locked versions, and the hooks

hooks:  ## install the pre-commit hooks (nbstripout, jupytext pairs, ruff) when this is a git checkout
	@if git rev-parse --git-dir >/dev/null 2>&1; then $(BIN)/pre-commit install; \
	else echo "not a git checkout: pre-commit hooks not installed"; fi

lock: | $(STAMP)  ## re-pin requirements.lock and environment.yml after a pyproject.toml change (UPGRADE=1: newest versions)
	$(BIN)/python tools/lock.py $(if $(UPGRADE),--upgrade)

sync-notebooks: | $(STAMP)  ## pair each template with notebooks/<name>.py (py:percent) and sync them: the newer file wins
	$(BIN)/jupytext --sync notebooks/*.ipynb

lab: $(STAMP) $(WAREHOUSE)  ## JupyterLab on the project: the venv's python3 kernel, gne.yaml, the warehouse (and CATALOG=DIR)
	GNE_CONFIG=$(abspath gne.yaml) GNE_WAREHOUSE=$(abspath $(WAREHOUSE)) $(if $(CATALOG),GNE_CATALOG=$(abspath $(CATALOG))) \
		$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

browser:  ## install Debian's headless Chromium and its driver (for the browser tests)
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

poppler:  ## install Debian's poppler-utils (pdftoppm, pdftotext: the browser tests check printed pages with them)
	@command -v pdftoppm >/dev/null 2>&1 || { \
		echo "installing poppler-utils from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; }

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

test: $(STAMP) browser poppler postgres $(TEST_WAREHOUSE)  ## set up and run the whole test suite (what CI runs)
	$(BIN)/ruff check gnelib tests bench tools
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
	$(BIN)/ruff check gnelib tests bench tools

bench: $(STAMP)  ## print the benchmark figures
	$(BIN)/python bench/warehouse_build.py --scales small,medium
	$(BIN)/python bench/metrics_compute.py
	$(BIN)/python bench/batch_run.py

clean:  ## remove the venv, the demo warehouse and generated reports
	rm -rf $(VENV) data build reports/*/ reports/index.html reports/runs.json
