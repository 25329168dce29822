# Quick start (see README):  make plan   |   make test
# Both create .venv on first use, from requirements.lock: every package pinned with its sha256
# (pip --require-hashes), then this project itself (editable, --no-deps). `make lock` refreshes the lock
# from pyproject.toml with uv (pinned, hash-checked, in requirements-tools.lock).

PYTHON ?= python3
VENV   ?= .venv
LOCK   := requirements.lock
MUTATION_LOCK := requirements-mutation.lock
TOOLS_LOCK := requirements-tools.lock
LOCK_TOOLS := .lock-tools
STACK  ?= auth0-example
BIN    := $(VENV)/bin
OIDC   := tests/lambdas/oidc_provider

.PHONY: plan test test-fast test-lambda-313 lint typecheck bench bench-fleet install lock lock-lambdas lock-tools node-deps clean mutation

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

# uv, pinned with its sha256 in requirements-tools.lock: the one resolver both lock targets use.
lock-tools:
	rm -rf $(LOCK_TOOLS) && $(PYTHON) -m venv $(LOCK_TOOLS) && \
	$(LOCK_TOOLS)/bin/python -m pip install --disable-pip-version-check --quiet --require-hashes -r $(TOOLS_LOCK)

# Refresh requirements.lock after changing a pin in pyproject.toml: uv resolves pyproject.toml's
# dependencies, the dev extra and the build backend for every platform (--universal) from Python 3.11 up,
# with the sha256 of every file. Needs PyPI.
lock: lock-tools
	@echo "==> Refreshing $(LOCK) from pyproject.toml with uv (pinned in $(TOOLS_LOCK))"
	$(PYTHON) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' \
		> $(LOCK_TOOLS)/build-system.in && \
	$(LOCK_TOOLS)/bin/uv pip compile pyproject.toml $(LOCK_TOOLS)/build-system.in --extra dev --generate-hashes \
		--universal --python-version 3.11 --custom-compile-command "make lock" --quiet -o $(LOCK) && \
	$(LOCK_TOOLS)/bin/uv pip compile pyproject.toml --extra mutation --constraint $(LOCK) --no-emit-package plaid-ready-idp \
		--generate-hashes --universal --python-version 3.11 --custom-compile-command "make lock" --quiet \
		-o $(MUTATION_LOCK) && \
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

# mypy with the configuration in pyproject.toml ([tool.mypy]: the source packages, strict enough to matter).
typecheck: install
	$(BIN)/mypy

# Everything: lint, typecheck, the suite on the tools' Python, then the Lambda's tests on its own runtime (CPython 3.13).
test: install node-deps lint typecheck
	$(BIN)/python -m pytest --durations=15
	@$(MAKE) --no-print-directory test-lambda-313

# The fast set alone: no test that starts Node, a subprocess, pip or git (marked e2e by tests/conftest.py).
test-fast: install
	$(BIN)/python -m pytest -m "not e2e" --durations=15

# tests/lambdas (the handler's and the scope adapter's) on CPython 3.13, in a venv holding exactly the Lambda's
# pinned runtime dependencies (lambdas/*/requirements.txt, hash-checked) and the test tools
# (tests/lambdas/requirements-py313.txt); tests that need the IaC side are left out (tests/lambdas/conftest.py).
PY313 := .build/py313
PY313_LOCKS := lambdas/customers_current/requirements.txt lambdas/scope_adapter/requirements.txt \
               tests/lambdas/requirements-py313.txt
test-lambda-313: install node-deps
	@if ! py=$$($(BIN)/python -m lambdas.build --find-python 2>/dev/null); then \
	  echo "==> NOT RUN: the Lambda tests on CPython 3.13 (the Lambda's runtime). $$($(BIN)/python -m lambdas.build --find-python 2>&1 | sed 's/^build failed: //')"; \
	  exit 0; \
	fi; \
	if [ ! -f $(PY313)/.installed ] || [ -n "$$(find $(PY313_LOCKS) -newer $(PY313)/.installed)" ]; then \
	  echo "==> Setting up $(PY313) ($$py) with the Lambda's pinned dependencies" && \
	  rm -rf $(PY313) && "$$py" -m venv $(PY313) && \
	  $(PY313)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
	    -r lambdas/customers_current/requirements.txt -r lambdas/scope_adapter/requirements.txt && \
	  $(PY313)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
	    -r tests/lambdas/requirements-py313.txt && \
	  touch $(PY313)/.installed || exit 1; \
	fi; \
	echo "==> The Lambda tests on CPython $$($(PY313)/bin/python -c 'import sys; print(sys.version.split()[0])') ($(PY313))"; \
	$(PY313)/bin/python -m pytest -p no:cacheprovider tests/lambdas

bench: install
	$(BIN)/python benchmarks/bench_plan.py
	$(BIN)/python benchmarks/bench_lambda.py

# 200 generated stacks planned with --all against one stack's plan (several minutes; docs/fleet.md).
bench-fleet: install
	$(BIN)/python benchmarks/fleet_plan.py

# Re-pin the Lambda packages after editing lambdas/*/requirements.in: hashes for every file of every pinned
# package (uv, pinned), then lambdas/build.lock (the wheel per architecture and the digest of a verified build).
# Needs PyPI and CPython 3.13 (see lambdas/build.py).
lock-lambdas: install lock-tools
	for fn in customers_current scope_adapter readiness_probe; do \
	  $(LOCK_TOOLS)/bin/uv pip compile --quiet --generate-hashes --python-version 3.13 \
	    --python-platform aarch64-manylinux2014 --custom-compile-command "make lock-lambdas" \
	    lambdas/$$fn/requirements.in -o lambdas/$$fn/requirements.txt || exit 1; \
	done
	$(LOCK_TOOLS)/bin/uv pip compile --quiet --generate-hashes --universal --python-version 3.13 \
	  --custom-compile-command "make lock-lambdas" -c lambdas/customers_current/requirements.txt \
	  tests/lambdas/requirements-py313.in -o tests/lambdas/requirements-py313.txt
	rm -rf $(LOCK_TOOLS)
	$(BIN)/python -m lambdas.build --lock

# Mutation testing of the security-critical modules (mutmut; not part of `make test`; docs/testing.md).
# Groups are in tools/mutation.toml; `make mutation MODULES=verifier` runs one (several: MODULES="verifier rules").
# ONLY='readiness.rules.auth0.*' tests only the mutants whose names match. Incremental: results are kept in
# .mutation/<group>/. MUTATION_JOBS=2 runs two mutants at a time (default 1).
MODULES ?=
ONLY ?=
mutation: install node-deps $(VENV)/.mutation-installed
	$(BIN)/python tools/mutation.py $(foreach p,$(ONLY),--only '$(p)') $(MODULES)

$(VENV)/.mutation-installed: $(VENV)/.installed $(MUTATION_LOCK)
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --require-hashes -r $(MUTATION_LOCK)
	touch $@

clean:
	rm -rf $(VENV) $(LOCK_TOOLS) .build $(OIDC)/node_modules .pytest_cache .ruff_cache
