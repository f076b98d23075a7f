# Propcare: `make run` starts everything in one process with a demo city; `make test` runs the suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := intake dispatch notification survey analytics
STAMP := $(VENV)/.propcare-installed
LINT_STAMP := $(VENV)/.propcare-lint-installed
RUFF_VERSION := 0.17.6
MYPY_VERSION := 2.4.1

.PHONY: help install browser prometheus wrk run test lint bench lock clean

help:
	@echo "make run     start the five services, MongoDB and the gateway in one process (http://127.0.0.1:8080)"
	@echo "make test    run the whole test suite against a real MongoDB and RabbitMQ"
	@echo "make install create .venv and install the pinned requirements and the packages (editable)"
	@echo "make lint    ruff and mypy"
	@echo "make bench   the benchmarks (tests/bench), one Markdown table; BENCH_ONLY=open_loop,wrk,... for some"
	@echo "make lock    regenerate requirements.lock from .venv"

install: $(STAMP)

# Re-run only when the pins or a package's metadata change; otherwise `make install` is a no-op.
$(STAMP): requirements.lock shared/pyproject.toml $(wildcard services/*/pyproject.toml)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e shared $(addprefix -e services/,$(SERVICES))
	@touch $@

# The resident pages are tested in a real browser: Debian's Chromium, driven by Playwright (whose own
# browser download does not reach this network). Installed here when missing and we may; else a clear stop.
CHROMIUM := /usr/bin/chromium
APT_CHROMIUM := apt-get install -y -q --no-install-recommends chromium >/dev/null
browser:
	@test -x $(CHROMIUM) || { test "$$(id -u)" = 0 && { $(APT_CHROMIUM) || { apt-get update -q >/dev/null && $(APT_CHROMIUM); }; }; } \
		|| { echo "make test: the browser tests need Chromium at $(CHROMIUM); install it: apt-get install chromium" >&2; exit 1; }

# Alert rules are unit-tested with promtool and every dashboard query is run against a real Prometheus:
# Debian's `prometheus` package (both binaries). Installed here when missing and we may; else a clear stop.
PROMETHEUS := /usr/bin/prometheus
PROMTOOL := /usr/bin/promtool
APT_PROMETHEUS := apt-get install -y -q --no-install-recommends prometheus >/dev/null
prometheus:
	@{ test -x $(PROMETHEUS) && test -x $(PROMTOOL); } || { test "$$(id -u)" = 0 && { $(APT_PROMETHEUS) || { apt-get update -q >/dev/null && $(APT_PROMETHEUS); }; }; } \
		|| { echo "make test: the monitoring tests need $(PROMETHEUS) and $(PROMTOOL); install them: apt-get install prometheus" >&2; exit 1; }

# The closed-loop comparison of `make bench` drives HTTP with wrk: Debian's `wrk` package. Installed
# here when missing and we may; else a clear stop.
WRK := /usr/bin/wrk
APT_WRK := apt-get install -y -q --no-install-recommends wrk >/dev/null
wrk:
	@test -x $(WRK) || { test "$$(id -u)" = 0 && { $(APT_WRK) || { apt-get update -q >/dev/null && $(APT_WRK); }; }; } \
		|| { echo "make bench: the closed-loop comparison needs wrk at $(WRK); install it: apt-get install wrk" >&2; exit 1; }

run: install
	$(BIN)/python -m infra.local.run

test: install browser prometheus
	@$(BIN)/python -m infra.tools.check_broker
	$(BIN)/pytest

$(LINT_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q ruff==$(RUFF_VERSION) mypy==$(MYPY_VERSION)
	@touch $@

lint: $(LINT_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared/propcare_shared infra $(foreach s,$(SERVICES),services/$(s)/$(s))

# BENCH_ONLY=open_loop,wrk,... picks parts; BENCH_RATES, BENCH_SECONDS, BENCH_ESTATES, BENCH_WRK_SECONDS tune them (tests/bench/__main__.py).
bench: install wrk
	@test -e tests/bench/__main__.py -o -e tests/bench.py || { echo "make bench: no benchmarks yet (tests/bench/__main__.py is missing)" >&2; exit 1; }
	$(BIN)/python -m tests.bench

# Pins what .venv holds now, without the editable project packages, pip itself or the lint tools.
lock:
	$(BIN)/python -m pip freeze --all --exclude-editable | grep -viE '^(pip|ruff|mypy|mypy[-_]extensions|pathspec|librt|ast[-_]serialize|propcare-[a-z]+)( @ |==)' > requirements.lock

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache .mypy_cache
