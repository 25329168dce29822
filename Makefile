# Quick start (see README):  make plan   |   make test
# Both create .venv (pinned dependencies from pyproject.toml) on first use.

PYTHON ?= python3
VENV   ?= .venv
STACK  ?= auth0-example
BIN    := $(VENV)/bin
OIDC   := tests/lambdas/oidc_provider

.PHONY: plan test lint bench install node-deps clean lock-lambdas

install: $(VENV)/.installed

# First run: about 1-2 minutes (the Pulumi provider SDKs are large downloads); later runs skip it until
# pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@echo "==> Setting up $(VENV) with the pinned dependencies from pyproject.toml."
	@echo "    First run: about 1-2 minutes (the Pulumi provider SDKs are large downloads); later runs skip this."
	@start=$$(date +%s) && \
	$(PYTHON) -m venv $(VENV) && \
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --upgrade pip && \
	echo "==> Installing plaid-ready-idp and its dependencies (pip's progress follows)" && \
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -e '.[dev]' && \
	touch $@ && \
	echo "==> $(VENV) ready in $$(( $$(date +%s) - start )) s: $$($(BIN)/plaid-ready --version)"

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

# Re-pin the Lambda packages after editing lambdas/*/requirements.in: hashes for every file of every pinned
# package (uv, pinned), then lambdas/build.lock (the wheel per architecture and the digest of a verified build).
# Needs PyPI and CPython 3.13 (see lambdas/build.py).
UV_VERSION := 0.13.8
lock-lambdas: install
	$(PYTHON) -m venv .build/uv && .build/uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	for fn in customers_current scope_adapter; do \
	  .build/uv/bin/uv pip compile --quiet --generate-hashes --python-version 3.13 \
	    --python-platform aarch64-manylinux2014 --custom-compile-command "make lock-lambdas" \
	    lambdas/$$fn/requirements.in -o lambdas/$$fn/requirements.txt || exit 1; \
	done
	$(BIN)/python -m lambdas.build --lock

clean:
	rm -rf $(VENV) .build $(OIDC)/node_modules .pytest_cache .ruff_cache
