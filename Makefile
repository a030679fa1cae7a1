# gne-reports: every setup step lives here, so a fresh machine needs only `make report` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= small
WAREHOUSE ?= data/gne.duckdb
PLAN   ?= parameters/weekly.yaml

.PHONY: help setup browser warehouse report test lint bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,spark]'
	touch $@

setup: $(STAMP)  ## create .venv and install gnelib with its test and Spark extras

browser:  ## install Debian's headless Chromium and its driver (for the browser tests)
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

$(WAREHOUSE): | $(STAMP)
	$(BIN)/gne warehouse build --scale $(SCALE) --path $(WAREHOUSE)

warehouse: $(WAREHOUSE)  ## build the demo warehouse if it is missing

report: $(STAMP) $(WAREHOUSE)  ## the main job: the weekly plan for the latest week, ending in reports/index.html
	$(BIN)/gne run $(PLAN)

test: $(STAMP) browser  ## set up and run the whole test suite (what CI runs)
	$(BIN)/ruff check gnelib tests bench
	$(BIN)/pytest

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check gnelib tests bench

bench: $(STAMP)  ## print the benchmark figures
	$(BIN)/python bench/warehouse_build.py --scales small,medium
	$(BIN)/python bench/metrics_compute.py
	$(BIN)/python bench/batch_run.py

clean:  ## remove the venv, the demo warehouse and generated reports
	rm -rf $(VENV) data reports/*/ reports/index.html reports/runs.json
