# Two commands, each self-sufficient from a bare clone with Python 3.11 (plus make bench):
#   make demo  - install into .venv, write the demo sweep if the default root is empty, serve the dashboard
#   make test  - install into .venv (with test extras) and run the whole suite
#   make bench - install into .venv-bench (with the MLflow/W&B peers) and write benchmarks/results.md
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := $(VENV)/bin

.PHONY: demo test bench browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/tracklib demo --if-empty
	$(BIN)/tracklib ui

# The browser tests drive Debian's Chromium (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }
	@# tests/e2e/test_deploy.py puts the README's nginx TLS proxy in front of the dashboard; the
	@# test starts its own nginx, so the system service apt may start is stopped and disabled.
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  echo "installing Debian's nginx for the deployment test"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nginx \
	  && { $(SUDO) systemctl disable --now nginx >/dev/null 2>&1 || true; }; }

# The sign-in tests run a real OpenID Connect provider (npm's oidc-provider) on Node.js,
# installed from tests/oidc/package-lock.json.
OIDC_MODULES := tests/oidc/node_modules/.package-lock.json
$(OIDC_MODULES): tests/oidc/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing Debian's nodejs and npm for the sign-in tests"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	npm ci --prefix tests/oidc --no-audit --no-fund
	touch $@

test: $(VENV)/.dev-installed browser $(OIDC_MODULES)
	$(BIN)/python -m pytest

# Benchmarks get their own venv: the peers (MLflow, W&B) must never leak into the test venv.
BENCH_VENV := .venv-bench
BENCH_BIN := $(BENCH_VENV)/bin

$(BENCH_BIN)/python:
	$(PYTHON) -m venv $(BENCH_VENV)

$(BENCH_VENV)/.bench-installed: pyproject.toml | $(BENCH_BIN)/python
	$(BENCH_BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@

# W1-W4 with peers; writes benchmarks/results.md (about 10-15 minutes on 2 cores).
bench: $(BENCH_VENV)/.bench-installed
	$(BENCH_BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info .pytest_cache
