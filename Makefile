# kymata-pipeline: two commands from a fresh clone.
#   make demo   set up .venv and run the whole workflow on the built-in demo study
#   make test   set up .venv and run every test

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Jobs call `kymata-core` and Snakemake from .venv, on this machine or a cluster's nodes.
RUN    := PATH="$(CURDIR)/$(BIN):$$PATH" MPLBACKEND=Agg

.PHONY: demo test lint setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "kymata-pipeline needs Python 3.11 or newer; set PYTHON=python3.x"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check kymata_core tests benchmarks docs
	$(RUN) $(BIN)/python -m pytest tests --durations=25

lint: $(STAMP)
	$(BIN)/ruff check kymata_core tests benchmarks docs

demo: $(STAMP)
	$(RUN) $(BIN)/snakemake --profile profiles/default
	$(RUN) $(BIN)/snakemake --profile profiles/default --report results/report.html
	$(BIN)/python -m kymata_core.demo results

clean:
	rm -rf $(VENV) results demo-data .snakemake
