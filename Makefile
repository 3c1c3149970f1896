# BPIJ Reporting Hub. `make help` lists the targets.
SHELL := /bin/bash
PORT ?= 8000
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/bpij
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.DEFAULT_GOAL := help
.PHONY: help install run test test-fast lint typecheck check bench bench-dashboards bench-exports bench-hostile bench-load

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# Each step of `make run` says what it does: the first install takes minutes, and
# silence then reads as a hang.
$(VENV)/.synced: pyproject.toml uv.lock $(wildcard native/sheetcells/*.c native/sheetcells/*.h) native/sheetcells/pyproject.toml
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
		{ echo "Installing uv (the package installer) with pip…"; $(PYTHON) -m pip install --quiet uv; }
	@echo "Installing the locked dependencies into $(VENV)/ (uv.lock; the first time takes a few minutes)…"
	@UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

install: $(VENV)/.synced ## Install the locked dependencies into .venv/

run: install ## Serve the app on the embedded default (SQLite, tasks in-process, DEBUG on) with demo data
	@echo "Dependencies ready in $(VENV)/."
	@echo "Migrating the database (SQLite under $${BPIJ_VAR_DIR:-var}/)…"
	@env -u DATABASE_URL -u REDIS_URL DEBUG=true $(PY) manage.py migrate --no-input -v0
	@env -u DATABASE_URL -u REDIS_URL DEBUG=true $(PY) manage.py seed_demo --if-empty
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	@env -u DATABASE_URL -u REDIS_URL DEBUG=true $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The suite runs in TEST_WORKERS processes (pytest-xdist; one per core by default), each
# with a test database and a Redis database of its own (bpij/settings_test.py); a test
# file stays on one process, so its module-scoped fixtures are built once.
TEST_WORKERS ?= auto

test: install ## Run the whole suite on PostgreSQL and Redis at localhost
	@DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) scripts/check_services.py
	@DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-fast: install ## The edit-run loop: no browser, e2e, PDF or throwaway-cluster tests; databases kept
	@DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) scripts/check_services.py
	@DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --reuse-db \
		-m "not browser and not e2e and not pdf and not pg_cluster" $(PYTEST_ARGS)

lint: install ## Ruff lint and format check
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

typecheck: install ## mypy with django-stubs
	@$(VENV)/bin/mypy .

check: lint typecheck ## Lint, format and type checks; import contracts; the API schema generates without warnings
	@$(VENV)/bin/lint-imports --no-cache
	@$(PY) scripts/import_cycles.py
	@DEBUG=true $(PY) manage.py makemigrations --check --dry-run -v0
	@DEBUG=true $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

bench: install ## Print the benchmark figures (see bench/README.md)
	@$(PY) -m compileall -q bpij grantees reporting coaching
	@DEBUG=$${DEBUG:-true} $(PY) bench/run.py $(BENCH_ARGS)

bench-dashboards: install ## Seed the full demo into PostgreSQL; roll-up time, queries per page, load run
	@$(PY) bench/dashboards.py $(BENCH_ARGS)

bench-load: install ## wrk -c20 on the board and dashboards, idle and while 100k-row checks run (needs REDIS_URL, wrk)
	@$(PY) bench/load.py $(BENCH_ARGS)

bench-exports: install ## Seed the demo into PostgreSQL; render time and peak memory of the two PDFs
	@DEBUG=$${DEBUG:-true} $(PY) bench/exports.py $(BENCH_ARGS)

bench-hostile: install ## 200,000 rows of =1+1: time and peak memory of check_files and of an upload
	@DEBUG=$${DEBUG:-true} $(PY) bench/hostile.py $(BENCH_ARGS)
