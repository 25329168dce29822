# Quick start (see README):  make plan   |   make test
# Both create .venv on first use, from requirements.lock: every package pinned with its sha256
# (pip --require-hashes), then this project itself (editable, --no-deps). `make lock` refreshes the lock
# from pyproject.toml with uv (pinned, hash-checked, in requirements-tools.lock).

PYTHON ?= python3
VENV   ?= .venv
LOCK   := requirements.lock
TOOLS_LOCK := requirements-tools.lock
LOCK_TOOLS := .lock-tools
STACK  ?= auth0-example
BIN    := $(VENV)/bin
OIDC   := tests/lambdas/oidc_provider

.PHONY: plan test lint bench install lock node-deps clean

install: $(VENV)/.installed

# First run: about 1-2 minutes (the Pulumi provider SDKs are large downloads); later runs skip it until
# pyproject.toml or the lock changes. Every download is checked against the lock's sha256 (--require-hashes);
# the project itself is installed without dependencies and without build isolation (its build backend,
# setuptools, comes from the lock too).
$(VENV)/.installed: pyproject.toml $(LOCK)
	@echo "==> Setting up $(VENV) from $(LOCK) (every package pinned with its sha256: pip --require-hashes)."
	@echo "    First run: about 1-2 minutes (the Pulumi provider SDKs are large downloads); later runs skip this."
	@start=$$(date +%s) && \
	$(PYTHON) -m venv $(VENV) && \
	echo "==> Installing the locked dependencies (pip's progress follows)" && \
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on --require-hashes -r $(LOCK) && \
	echo "==> Installing plaid-ready-idp itself (editable, --no-deps)" && \
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --no-deps --no-build-isolation -e . && \
	touch $@ && \
	echo "==> $(VENV) ready in $$(( $$(date +%s) - start )) s: $$($(BIN)/plaid-ready --version)"

# Refresh requirements.lock after changing a pin in pyproject.toml: uv (pinned with hashes in
# requirements-tools.lock) resolves pyproject.toml's dependencies, the dev extra and the build backend for
# every platform (--universal) from Python 3.11 up, with the sha256 of every file. Needs PyPI.
lock:
	@echo "==> Refreshing $(LOCK) from pyproject.toml with uv (pinned in $(TOOLS_LOCK))"
	rm -rf $(LOCK_TOOLS) && $(PYTHON) -m venv $(LOCK_TOOLS) && \
	$(LOCK_TOOLS)/bin/python -m pip install --disable-pip-version-check --quiet --require-hashes -r $(TOOLS_LOCK) && \
	$(PYTHON) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' \
		> $(LOCK_TOOLS)/build-system.in && \
	$(LOCK_TOOLS)/bin/uv pip compile pyproject.toml $(LOCK_TOOLS)/build-system.in --extra dev --generate-hashes \
		--universal --python-version 3.11 --custom-compile-command "make lock" --quiet -o $(LOCK) && \
	rm -rf $(LOCK_TOOLS)
	@echo "==> $(LOCK) written; commit it with pyproject.toml"

# The real OIDC provider the Lambda's end-to-end tests drive (npm oidc-provider, committed lockfile).
node-deps: $(OIDC)/node_modules/.package-lock.json

$(OIDC)/node_modules/.package-lock.json: $(OIDC)/package-lock.json
	npm ci --no-audit --no-fund --prefix $(OIDC)

plan: install
	$(BIN)/plaid-ready plan --stack $(STACK)

lint: install
	$(BIN)/ruff check .

test: install node-deps lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/bench_plan.py
	$(BIN)/python benchmarks/bench_lambda.py

clean:
	rm -rf $(VENV) $(LOCK_TOOLS) .build $(OIDC)/node_modules .pytest_cache .ruff_cache
