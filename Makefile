# Quick start (see README):  make plan   |   make test
# Both create .venv (pinned dependencies from pyproject.toml) on first use.

PYTHON ?= python3
VENV   ?= .venv
STACK  ?= auth0-example
BIN    := $(VENV)/bin
OIDC   := tests/lambdas/oidc_provider

.PHONY: plan test test-fast test-lambda-313 lint bench install node-deps clean lock-lambdas

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

# Everything: lint, the suite on the tools' Python, then the Lambda's tests on its own runtime (CPython 3.13).
test: install node-deps lint
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
	.build/uv/bin/uv pip compile --quiet --generate-hashes --universal --python-version 3.13 \
	  --custom-compile-command "make lock-lambdas" -c lambdas/customers_current/requirements.txt \
	  tests/lambdas/requirements-py313.in -o tests/lambdas/requirements-py313.txt
	$(BIN)/python -m lambdas.build --lock

clean:
	rm -rf $(VENV) .build $(OIDC)/node_modules .pytest_cache .ruff_cache
