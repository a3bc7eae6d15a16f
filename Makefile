# paysvc — see README.md. Every target creates and fills .venv itself.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SDK := sdk/paysvc-webhooks
# Both pyproject files name the stamp: changing either (or first pulling the SDK) reinstalls.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(SDK)/pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test soak lint security format bench sandbox install system-deps migrate clean help

help:
	@echo "make run      - install, migrate, start sandbox + web + worker + beat, print the URLs"
	@echo "make test     - install what the tests need and run the whole suite"
	@echo "make lint     - ruff lint + format check, mypy on binance_pay and the SDK, migrations check"
	@echo "make security - bandit (medium+ severity); pip-audit needs network (README, Security)"
	@echo "make soak     - the fault and state-machine tests at docs/reliability.md's full sizes (not in make test)"
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

# Debian's packages the tests use: Chromium for the browser tests (Playwright drives the system
# browser; it never downloads one) and nginx for the reverse-proxy tests (tests/paysvc/
# test_proxy.py runs deploy/nginx.conf.template). Installed only when missing and when we may
# (CI runs as root); the package's own service is never started (tests start nginx themselves).
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium fonts-dejavu-core"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's$$missing for the tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "WARNING: missing$$missing and cannot apt-get them; the tests needing them will be skipped"; \
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

# docs/reliability.md#45-bandit-and-pip-audit. Accepted findings and why: pyproject.toml
# [tool.bandit]. pip-audit is not run here: it needs the vulnerability service's API, which this
# network does not reach (README).
security: install
	$(VENV)/bin/bandit -c pyproject.toml -r . -ll -q

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: install system-deps lint security
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The full sizes of docs/reliability.md (README "Soak"): #17, #18, #20, #21 and #26 with
# PAYSVC_SOAK=1. Not part of `make test`, so not of CI (.ci/run). Each test prints its figures
# (-s) and appends them, as JSON lines, to SOAK_FIGURES.
SOAK_TESTS := \
	tests/orders/test_status_races.py::test_status_invariants_hold_for_any_sequence_of_reports \
	tests/faults/test_worker_kill.py::test_a_pool_process_killed_mid_task_is_redelivered_at_once_and_applied_once \
	tests/faults/test_broker.py::test_broker_down_while_webhooks_arrive_loses_nothing_and_does_not_slow_the_answer \
	tests/faults/test_database_down.py::test_database_down_no_200_without_storage_and_nothing_lost_after_recovery \
	tests/faults/test_rolling_restart.py
SOAK_FIGURES ?= var/soak/figures-$(shell date -u +%Y%m%dT%H%M%SZ).jsonl

soak: install
	@mkdir -p $(dir $(SOAK_FIGURES))
	@start=$$(date +%s); \
	PAYSVC_SOAK=1 PAYSVC_FIGURES=$(SOAK_FIGURES) $(VENV)/bin/pytest -v -s -p no:cacheprovider \
	  --timeout 1800 $(SOAK_TESTS) $(PYTEST_ARGS); status=$$?; \
	echo "make soak: $$(( $$(date +%s) - start )) s, exit $$status, figures in $(SOAK_FIGURES)"; \
	exit $$status

bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache .ruff_cache .mypy_cache
