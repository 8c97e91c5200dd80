# TradeCRM — `make run` serves the app, `make test` runs the tests. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export TRADECRM_DATA_DIR ?= $(CURDIR)/var
PG_URL ?= postgres://postgres@127.0.0.1:5432/tradecrm
PYTEST_ARGS ?=

.PHONY: run test test-pg test-browser install assets browser-deps bench demo lint format openapi clean

run: install
	$(VENV)/bin/tradecrm run --port $(PORT)

test: install
	TRADECRM_DATA_DIR=$(CURDIR)/var/test $(VENV)/bin/pytest -m "not browser" $(PYTEST_ARGS)

# the same suite against the PostgreSQL server (DATABASE_URL overrides PG_URL)
test-pg: install
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} TRADECRM_DATA_DIR=$(CURDIR)/var/test-pg \
	  $(VENV)/bin/pytest -m "not browser" $(PYTEST_ARGS)

test-browser: install browser-deps
	TRADECRM_DATA_DIR=$(CURDIR)/var/test-browser $(VENV)/bin/pytest -m browser tests/browser -p no:xdist $(PYTEST_ARGS)

install: $(VENV)/.installed assets

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

assets: static/vendor/.installed

static/vendor/.installed: package.json package-lock.json scripts/copy_vendor.py | $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	$(PY) scripts/copy_vendor.py
	touch $@

# Debian's Chromium for the browser tests (Playwright cannot download browsers here)
browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

demo: install
	$(VENV)/bin/tradecrm migrate --noinput
	$(VENV)/bin/tradecrm demo --companies $${N:-500}

bench: install
	bash bench/run.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

openapi: install
	$(VENV)/bin/tradecrm export_openapi

clean:
	rm -rf $(VENV) node_modules static/vendor var/test var/test-pg var/test-browser
