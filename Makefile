# kymata-pipeline: two commands from a fresh clone.
#   make demo   set up .venv and run the whole workflow on the built-in demo study
#   make test   set up .venv and run every test

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint setup clean bench

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check kymata_core tests benchmarks
	$(RUN) $(BIN)/python -m pytest tests

lint: $(STAMP)
	$(BIN)/ruff check kymata_core tests benchmarks

# Jobs call `kymata-core` and Snakemake from .venv, on this machine or a cluster's nodes.
RUN := PATH="$(CURDIR)/$(BIN):$$PATH" MPLBACKEND=Agg

demo: $(STAMP)
	$(RUN) $(BIN)/snakemake --profile profiles/default
	$(RUN) $(BIN)/snakemake --profile profiles/default --report results/report.html
	$(BIN)/python -m kymata_core.demo results

clean:
	rm -rf $(VENV) results .snakemake
