# clusnet_analysis — `make help` lists the targets.
# Set-up is automatic: the first target that needs Python creates .venv and installs
# the package (re-installed only when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?= data/sample
JOBS   ?=
PERIOD ?= all
JOBS_FLAG := $(if $(JOBS),--jobs $(JOBS),)

.DEFAULT_GOAL := help

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name clusnet --display-name "Python (clusnet_analysis)" >/dev/null
	@touch $(STAMP)

.PHONY: help install validate report run figures test lab sample sample-mobility benchmark clean mutation

## Show this help
help:
	@awk '/^## /{doc=substr($$0,4); next} /^[a-zA-Z_-]+:/{if(doc){split($$1,t,":"); printf "  make %-10s %s\n", t[1], doc}; doc=""}' $(MAKEFILE_LIST)

## Create .venv and install the package with its test tools
install: $(STAMP)

## Check the data (DATA=data/sample): schema errors and programme-rule findings
validate: $(STAMP)
	$(BIN)/clusnet validate --data $(DATA)

## Main job: validate, build every period's HTML reports and the final figures
report: $(STAMP)
	$(BIN)/clusnet validate --data $(DATA)
	$(BIN)/clusnet run --period $(PERIOD) --data $(DATA) $(JOBS_FLAG)
	$(BIN)/clusnet figures --data $(DATA)

## Build the period reports only (PERIOD=S3|S4|S5|final|all)
run: $(STAMP)
	$(BIN)/clusnet run --period $(PERIOD) --data $(DATA) $(JOBS_FLAG)

## Build the final report's figures (PNG 200 dpi + SVG) into reports/figures/
figures: $(STAMP)
	$(BIN)/clusnet figures --data $(DATA)

## Run the test suite
test: $(STAMP)
	$(BIN)/python -m pytest -q

## Mutation testing (slow; not in make test); MUTANTS='clusnet_analysis.ingest.parsing*' for one module
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,mutation]"
	CLUSNET_MUTATION=1 $(BIN)/mutmut run --max-children $(or $(MUTATION_JOBS),2) $(MUTANTS)
	$(BIN)/python tools/mutation_score.py

## Open JupyterLab with the package importable (kernel "Python (clusnet_analysis)")
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

## Regenerate the bundled synthetic sample (deterministic)
sample: $(STAMP)
	$(BIN)/clusnet sample --out data/sample

## Write the second programme's synthetic data set (48 countries, its own programme.toml) to data/mobility
sample-mobility: $(STAMP)
	$(BIN)/clusnet sample --programme mobility --out data/mobility

## Run the benchmarks (1M exchanges; batch vs naive chain; clusnet run at sample scale 100 and 1000)
benchmark: $(STAMP)
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/bench_scale.py

## Remove built reports and caches (keeps .venv and data)
clean:
	rm -rf reports/S3 reports/S4 reports/S5 reports/final reports/figures reports/validation reports/index.html .cache
