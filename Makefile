# Two commands on a fresh clone: `make run` serves the seeded API, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: run test lint migrate seed serve schemathesis lock clean

$(VENV)/.runtime: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-dev.lock
	touch $@

run: $(VENV)/.runtime ## migrate, seed when empty, serve on HOST:PORT (127.0.0.1:8000)
	$(PY) -m app.cli migrate
	$(PY) -m app.cli seed --if-empty
	$(PY) -m app.cli serve

migrate: $(VENV)/.runtime
	$(PY) -m app.cli migrate

seed: $(VENV)/.runtime
	$(PY) -m app.cli seed

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app tests migrations bench

test: lint ## lint, types, then the tests (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
	$(BIN)/pytest

schemathesis: $(VENV)/.dev ## fuzz the running app against its own OpenAPI document
	bash scripts/schemathesis.sh

lock: $(VENV)/.dev ## re-pin dependencies after editing pyproject.toml
	$(BIN)/pip-compile -q --generate-hashes --strip-extras --allow-unsafe -o requirements.lock pyproject.toml
	$(BIN)/pip-compile -q --generate-hashes --strip-extras --allow-unsafe --extra dev -c requirements.lock -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
