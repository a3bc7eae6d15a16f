# paysvc — see README.md. Every target creates and fills .venv itself.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SDK := sdk/paysvc-webhooks
# Both pyproject files name the stamp: changing either (or first pulling the SDK) reinstalls.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(SDK)/pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test lint format bench sandbox install system-deps migrate clean help

help:
	@echo "make run      - install, migrate, start sandbox + web + worker + beat, print the URLs"
	@echo "make test     - install what the tests need and run the whole suite"
	@echo "make lint     - ruff lint + format check, mypy on binance_pay and the SDK, migrations check"
	@echo "make bench    - run the benchmarks in bench/"
	@echo "make sandbox  - run only the local Binance Pay sandbox (127.0.0.1:8090)"

$(STAMP): pyproject.toml $(SDK)/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@# strict: a static link tree on a .pth path, which mypy and editors follow (unlike the default hook)
	$(PY) -m pip install --quiet -e ./$(SDK) --config-settings editable_mode=strict
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives the system browser; it never
# downloads one). Installed only when missing and when we may (CI runs as root).
system-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; \
	  else \
	    echo "WARNING: /usr/bin/chromium missing and cannot apt-get it; browser tests will be skipped"; \
	  fi; \
	fi

migrate: install
	$(PY) manage.py migrate --noinput

run: install
	$(PY) -m paysvc.devrun

sandbox: install
	$(PY) -m sandbox serve

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy binance_pay
	cd $(SDK) && ../../$(VENV)/bin/mypy
	DJANGO_SECRET_KEY=lint $(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: install system-deps lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache .ruff_cache .mypy_cache
