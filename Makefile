# TradeCRM — `make run` serves the app, `make test` runs the tests. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export TRADECRM_DATA_DIR ?= $(CURDIR)/var
PG_URL ?= postgres://postgres@127.0.0.1:5432/tradecrm
PYTEST_ARGS ?=
# test processes (pytest-xdist); each has its own test database and data dir
TEST_WORKERS ?= 2

.PHONY: run test test-pg test-browser screenshots install assets system-deps browser-deps mail-deps bench demo lint format openapi clean

run: install
	$(VENV)/bin/tradecrm run --port $(PORT)

test: install
	TRADECRM_DATA_DIR=$(CURDIR)/var/test $(VENV)/bin/pytest -m "not browser" -n $(TEST_WORKERS) $(PYTEST_ARGS)

# the same suite against the PostgreSQL server (DATABASE_URL overrides PG_URL)
test-pg: install
	DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} TRADECRM_DATA_DIR=$(CURDIR)/var/test-pg \
	  $(VENV)/bin/pytest -m "not browser" -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-browser: install browser-deps
	TRADECRM_DATA_DIR=$(CURDIR)/var/test-browser $(VENV)/bin/pytest -m browser tests/browser -p no:xdist $(PYTEST_ARGS)

# the user guide's screenshots (docs/user-guide/img/), taken by the browser tests from their data
screenshots: install browser-deps
	TRADECRM_GUIDE_SCREENSHOTS=1 TRADECRM_DATA_DIR=$(CURDIR)/var/test-browser $(VENV)/bin/pytest -m browser tests/browser -p no:xdist $(PYTEST_ARGS)

install: system-deps $(VENV)/.installed assets

# PDF documents (WeasyPrint) need Pango, HarfBuzz's subsetter (without it fonts are subset by
# fontTools: 4.5 s instead of 70 ms for a one-page PI) and a CJK font: Debian's packages.
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk
system-deps:
	@if ! { fc-list :lang=zh family 2>/dev/null | grep -q 'Noto Sans CJK' && ldconfig -p | grep -q 'libharfbuzz-subset.so.0' && ldconfig -p | grep -q 'libpangoft2-1.0.so.0'; }; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages for PDF documents: $(PDF_DEBS)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_DEBS) >/dev/null; \
	  else echo "PDF documents need these Debian packages: $(PDF_DEBS) (run: sudo apt-get install $(PDF_DEBS))" >&2; exit 1; fi; \
	fi

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

# Debian's Dovecot for the email tests (a throw-away IMAP server they configure and start themselves;
# without it those tests are skipped locally, and fail in CI)
mail-deps:
	@command -v dovecot >/dev/null || test -x /usr/sbin/dovecot || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; }

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
