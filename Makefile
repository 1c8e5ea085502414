# vaxledger: `make up` runs the platform, `make test` runs every test.
# Both set everything up first (Debian packages, Python venv, npm, solc).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FUZZ_VENV := .venv-fuzz
SOLC_VERSION := 0.8.28

# The npm-installed Anvil and the solcjs-backed solc come first for every target.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx

.PHONY: setup up test lint slither bench-gas bench-oracle bench-api bench-faults bench-soak bench-verify bench-sim constraints clean clean-state

setup: $(VENV)/.installed $(FUZZ_VENV)/.installed node_modules/.installed .solcx/solc-v$(SOLC_VERSION) frontend/dist/index.html

$(VENV)/.installed: requirements/brownie.txt requirements/app.txt requirements/dev.txt requirements/no-deps.txt requirements/constraints.txt requirements/system.txt
	tools/setup-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements/brownie.txt
	$(BIN)/pip install -q -r requirements/app.txt -r requirements/dev.txt -c requirements/constraints.txt
	$(BIN)/pip install -q --no-deps -r requirements/no-deps.txt
	touch $@

# The API fuzzer in a venv of its own: schemathesis needs a newer hypothesis than Brownie pins.
$(FUZZ_VENV)/.installed: requirements/fuzz.txt $(VENV)/.installed
	test -x $(FUZZ_VENV)/bin/python || $(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/pip install -q --upgrade pip
	$(FUZZ_VENV)/bin/pip install -q -r requirements/fuzz.txt
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.solcx/solc-v$(SOLC_VERSION): node_modules/.installed tools/solc/solc-shim.js tools/solc/install.sh
	tools/solc/install.sh

# The web frontend's static assets, served by the backend at / (rebuilt when a source changes).
frontend/dist/index.html: node_modules/.installed frontend/build.mjs frontend/index.html $(shell find frontend/src -type f)
	node frontend/build.mjs

up: setup
	$(BIN)/python -m launcher

test: setup
	$(BIN)/python -m pytest

lint: setup slither
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Static analysis of the contracts (settings: slither.config.json; every finding's triage:
# contracts/SECURITY.md). Slither reads Brownie's build, so compile first; it fails on any High or
# Medium finding. `--all`: an incremental build can leave stale artifacts that Slither refuses.
# Slither never compiles by itself: the venv's `solc` is solc-select's, which downloads.
slither: setup
	$(BIN)/brownie compile --all
	$(BIN)/slither .

bench-gas: setup
	$(BIN)/python -m scripts.run bench.gas

bench-oracle: setup
	$(BIN)/python -m bench.oracle

bench-api: setup
	$(BIN)/python -m bench.api

bench-faults: setup
	$(BIN)/python -m bench.faults

bench-soak: setup
	$(BIN)/python -m bench.soak

bench-verify: setup
	$(BIN)/python -m bench.verify

# Two simulated days of the whole district at 5 % of its volumes through the real platform (python -m simulate).
bench-sim: setup
	$(BIN)/python -m bench.sim

constraints: $(VENV)/.installed
	$(BIN)/python tools/constraints.py

clean-state:
	rm -rf var

clean: clean-state
	rm -rf $(VENV) $(FUZZ_VENV) node_modules .solcx build reports frontend/dist
