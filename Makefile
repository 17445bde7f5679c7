# kymata-pipeline: two commands from a fresh clone.
#   make demo   set up .venv and run the whole workflow on the built-in demo study
#   make test   set up .venv and run every test
#   make lock   refresh requirements.lock after changing the dependencies in pyproject.toml

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Every package of the environment, pinned with its hashes (Linux x86_64, Python 3.11); see `lock`.
LOCK   := requirements.lock
# The CFF 1.2 JSON schema that tests/test_packaging.py validates CITATION.cff against, offline. It ships in
# cffconvert's wheel, which cannot be installed beside the locked jsonschema 4, so only the file is kept.
CFF_REQ := cffconvert==2.0.0 --hash=sha256:573c825e4e16173d99396dc956bd22ff5d4f84215cc16b6ab05299124f5373bb
# Jobs call `kymata-core` and Snakemake from .venv, on this machine or a cluster's nodes.
RUN    := PATH="$(CURDIR)/$(BIN):$$PATH" MPLBACKEND=Agg

.PHONY: demo test lint setup lock clean

setup: $(STAMP)

# .venv gets exactly the locked set (hash-checked, so nothing is resolved or substituted), then this
# project without dependencies. The lock pins the build backend too, hence --no-build-isolation.
# An existing .venv is brought to the lock's versions in place; `make clean setup` starts afresh.
$(STAMP): $(LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "kymata-pipeline needs Python 3.11 or newer; set PYTHON=python3.x"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		echo "warning: $(LOCK) was resolved for Python 3.11; this is $$($(PYTHON) -V)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	echo '$(CFF_REQ)' | $(BIN)/python -m pip download --quiet --no-deps --only-binary=:all: \
		--require-hashes -r /dev/stdin --dest $(VENV)/share/cff
	touch $(STAMP)

# Re-resolve pyproject.toml's dependencies (with the [test] extra and the build backend) into $(LOCK).
# Versions already in the lock are kept while they still fit; LOCK_ARGS=--upgrade takes the newest,
# LOCK_ARGS='-P numpy' upgrades one package. pip-tools runs from a throwaway venv, and the machine's
# pip configuration is ignored so that only PyPI is asked.
lock:
	rm -rf $(VENV)-lock
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet --upgrade pip 'pip-tools==7.6.2'
	env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
		CUSTOM_COMPILE_COMMAND="make lock" \
		$(VENV)-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--extra test --build-deps-for editable \
		--no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
		$(LOCK_ARGS) -o $(LOCK) pyproject.toml
	rm -rf $(VENV)-lock

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
	rm -rf $(VENV) $(VENV)-lock results demo-data .snakemake
