# Quick start: `make run` serves GraphiQL at http://127.0.0.1:8000/graphql on SQLite;
# `make test` runs the whole suite (again on PostgreSQL when CMS_TEST_DATABASE_URL is set).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format migrate seed clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m cms migrate
	$(BIN)/python -m cms seed --if-empty
	$(BIN)/python -m cms ensure-admin
	$(BIN)/python server.py

test: $(STAMP)
	CMS_TEST_BACKEND=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)
	@if [ -n "$$CMS_TEST_DATABASE_URL" ]; then \
		echo "--- the same suite on PostgreSQL ($$CMS_TEST_DATABASE_URL)"; \
		CMS_TEST_BACKEND=postgres $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else \
		echo "--- PostgreSQL run skipped: CMS_TEST_DATABASE_URL is not set"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP)
	$(BIN)/python -m cms migrate

seed: $(STAMP)
	$(BIN)/python -m cms seed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
