# Feature Bridge: `make serve` runs the service, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# checkov lives apart from the project's lock (tools/checkov.in says why).
CHECKOV_ENV := $(TOOLS)/checkov
CONFIG := $(if $(wildcard featurebridge.toml),featurebridge.toml,featurebridge.example.toml)
# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test install lint typecheck pytest bench clean lambda

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

$(CHECKOV_ENV)/.installed: $(UV) tools/checkov.txt
	$(UV) venv --quiet --clear --python $(PYTHON) $(CHECKOV_ENV)
	$(UV) pip install --quiet --python $(CHECKOV_ENV)/bin/python --require-hashes -r tools/checkov.txt
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

install: $(VENV)/.installed

serve: $(VENV)/.installed
	FEATUREBRIDGE_CONFIG=$${FEATUREBRIDGE_CONFIG:-$(CONFIG)} $(BIN)/featurebridge serve

# checkov: every check passes or is skipped with its reason beside the resource;
# --skip-download keeps it offline.
lint: $(VENV)/.installed $(CHECKOV_ENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint lambda/template.yaml
	$(CHECKOV_ENV)/bin/checkov --file lambda/template.yaml --framework cloudformation \
		--compact --quiet --skip-download

typecheck: $(VENV)/.installed
	$(BIN)/mypy

pytest: $(VENV)/.installed node_modules/.installed $(CHROMIUM)
	$(BIN)/pytest -q -p no:cacheprovider

test: lint typecheck pytest

bench: $(VENV)/.installed node_modules/.installed
	$(BIN)/python bench/run_all.py

# The Lambda deployment artifact, built offline from uv.lock: build/lambda.zip.
lambda: $(VENV)/.installed
	$(BIN)/python scripts/build_lambda.py

clean:
	rm -rf $(VENV) $(TOOLS) node_modules .mypy_cache .ruff_cache .pytest_cache build
