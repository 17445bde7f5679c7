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
	$(BIN)/python -m pytest tests

lint: $(STAMP)
	$(BIN)/ruff check kymata_core tests benchmarks

demo: $(STAMP)
	$(BIN)/python -m kymata_core.demo

clean:
	rm -rf $(VENV) results .snakemake
