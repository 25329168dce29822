# Quick start (see README):  make plan   |   make test
# Both create .venv (pinned dependencies from pyproject.toml) on first use.

PYTHON ?= python3
VENV   ?= .venv
STACK  ?= auth0-example
BIN    := $(VENV)/bin
OIDC   := tests/lambdas/oidc_provider

.PHONY: plan test lint bench install node-deps clean mutation

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

# Mutation testing of the security-critical modules (mutmut; not part of `make test`; docs/testing.md).
# Groups are in tools/mutation.toml; `make mutation MODULES=verifier` runs one (several: MODULES="verifier rules").
# ONLY='readiness.rules.auth0.*' tests only the mutants whose names match. Incremental: results are kept in
# .mutation/<group>/. MUTATION_JOBS=2 runs two mutants at a time (default 1).
MODULES ?=
ONLY ?=
mutation: install node-deps $(VENV)/.mutation-installed
	$(BIN)/python tools/mutation.py $(foreach p,$(ONLY),--only '$(p)') $(MODULES)

$(VENV)/.mutation-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -e '.[dev,mutation]'
	touch $@

clean:
	rm -rf $(VENV) .build $(OIDC)/node_modules .pytest_cache .ruff_cache
