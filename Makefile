# Quick start: `make run` serves GraphiQL at http://127.0.0.1:8000/graphql on SQLite;
# `make test` runs the whole suite (again on PostgreSQL when CMS_TEST_DATABASE_URL is set).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format migrate seed fuzz clean graphiql-assets

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# GraphiQL's browser files (GraphiQL, React, the explorer plugin), served by the CMS
# from its own origin: fetched from the npm registry at the versions and hashes of
# web/graphiql/assets.lock.json, verified, into the ignored web/graphiql/assets/.
# Standard library only (no Node.js); does nothing when they are already there.
graphiql-assets: | $(BIN)/python
	$(BIN)/python web/graphiql/fetch_assets.py

run: $(STAMP) graphiql-assets
	$(BIN)/python -m cms migrate
	$(BIN)/python -m cms seed --if-empty
	$(BIN)/python -m cms ensure-admin
	$(BIN)/python server.py

# With CMS_TEST_DATABASE_URL the SQLite and the PostgreSQL runs go at once: each run
# spends about half its time waiting (on PostgreSQL, on the servers it starts, on
# timers), so the two together take far less than one after the other on two cores.
# Each writes its own log, shown when both are done; either failing fails `make test`.
# The tests share the one Redis safely: every test's keys and channels are its own.
test: $(STAMP) graphiql-assets
ifeq ($(CMS_TEST_DATABASE_URL),)
	CMS_TEST_BACKEND=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)
	@echo "--- PostgreSQL run skipped: CMS_TEST_DATABASE_URL is not set"
else
	@logs=$$(mktemp -d); \
	echo "--- the suite on SQLite and on PostgreSQL ($$CMS_TEST_DATABASE_URL) at once, logs in $$logs"; \
	CMS_TEST_BACKEND=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS) >$$logs/sqlite.log 2>&1 & sqlite=$$!; \
	CMS_TEST_BACKEND=postgres $(BIN)/python -m pytest $(PYTEST_ARGS) >$$logs/postgres.log 2>&1 & postgres=$$!; \
	wait $$sqlite; sqlite_status=$$?; wait $$postgres; postgres_status=$$?; \
	echo "--- SQLite"; cat $$logs/sqlite.log; \
	echo "--- the same suite on PostgreSQL ($$CMS_TEST_DATABASE_URL)"; cat $$logs/postgres.log; \
	echo "--- SQLite: exit $$sqlite_status, PostgreSQL: exit $$postgres_status"; \
	test $$sqlite_status -eq 0 && test $$postgres_status -eq 0
endif

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# schemathesis (GraphQL mode) against a real server on a fresh SQLite database, as an
# anonymous caller and as an admin, FUZZ_SECONDS each; fails on any 5xx or
# INTERNAL_SERVER_ERROR (bench/fuzz.py). FUZZ_POSTGRES=postgres://postgres@host/postgres
# fuzzes a fresh PostgreSQL database instead.
FUZZ_SECONDS ?= 90
FUZZ_POSTGRES ?=
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[fuzz]'
	$(BIN)/python bench/fuzz.py --seconds $(FUZZ_SECONDS) $(if $(FUZZ_POSTGRES),--postgres $(FUZZ_POSTGRES))

migrate: $(STAMP)
	$(BIN)/python -m cms migrate

seed: $(STAMP)
	$(BIN)/python -m cms seed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
