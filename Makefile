# vaxledger: `make up` runs the platform, `make test` runs every test.
# Both set everything up first (Debian packages, Python venv, npm, solc).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SOLC_VERSION := 0.8.28

# The npm-installed Anvil and the solcjs-backed solc come first for every target.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx

.PHONY: setup up test lint bench-gas bench-oracle bench-api constraints clean clean-state

setup: $(VENV)/.installed node_modules/.installed .solcx/solc-v$(SOLC_VERSION)

$(VENV)/.installed: requirements/brownie.txt requirements/app.txt requirements/dev.txt requirements/no-deps.txt requirements/constraints.txt requirements/system.txt
	tools/setup-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements/brownie.txt
	$(BIN)/pip install -q -r requirements/app.txt -r requirements/dev.txt -c requirements/constraints.txt
	$(BIN)/pip install -q --no-deps -r requirements/no-deps.txt
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.solcx/solc-v$(SOLC_VERSION): node_modules/.installed tools/solc/solc-shim.js tools/solc/install.sh
	tools/solc/install.sh

up: setup
	$(BIN)/python -m launcher

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench-gas: setup
	$(BIN)/python -m scripts.run bench.gas

bench-oracle: setup
	$(BIN)/python -m bench.oracle

bench-api: setup
	$(BIN)/python -m bench.api

constraints: $(VENV)/.installed
	$(BIN)/python tools/constraints.py

clean-state:
	rm -rf var

clean: clean-state
	rm -rf $(VENV) node_modules .solcx build reports
