# wechat-sandbox: `make demo` runs the sandbox (and the demo shop); `make test` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test

.PHONY: demo test lint typecheck pytest examples install install-test browsers postgres nginx js bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wechat-sandbox needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(STAMP)

## demo: create .venv, install, run the sandbox and the demo shop beside it (open the shop URL it prints)
demo: install
	$(BIN)/wechat-sandbox up

## js: the official JS-SDK (npm weixin-js-sdk, pinned in package-lock.json) that the browser tests load
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

js: node_modules/.installed

## browsers: a Chromium for the end-to-end tests (Debian's package when we can, else Playwright's own)
browsers: $(STAMP)
	@bash scripts/ensure-chromium.sh $(BIN)/python

## postgres: PostgreSQL's server programs, for the tests that start a throwaway cluster (Debian's package as root)
postgres:
	@bash scripts/ensure-postgres.sh

## nginx: the load balancer the two-replica tests put in front of the replicas (Debian's package as root)
nginx:
	@bash scripts/ensure-nginx.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## examples: a third-party app's own tests, using only the pytest plugin's public fixtures
examples: $(STAMP) browsers
	cd examples/tea_shop && ../../$(BIN)/python -m pytest -q -p no:cacheprovider -o asyncio_default_fixture_loop_scope=function

pytest: $(STAMP) browsers postgres nginx js examples
	$(BIN)/python -m pytest

## test: install what the tests need (browsers included), lint, type-check, run every test
test: lint typecheck pytest

## bench: the sandbox measured side by side with a minimal aiohttp handler (and WireMock, when java is here)
bench/node_modules/.installed: bench/package.json bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund
	touch $@

bench: $(STAMP)
	@bash scripts/ensure-wrk.sh
	@if command -v npm >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then $(MAKE) --no-print-directory bench/node_modules/.installed; fi
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
