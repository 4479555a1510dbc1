# Two commands: `make run` (set up everything and serve on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# openapi-typescript for the generated-client test, installed by npm into that test's folder only.
TS_CLIENT := tests/clients/typescript
TS_STAMP := $(TS_CLIENT)/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test serve worker lint format lock migrations-check bench load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements/base.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/base.txt
	touch $@

$(DEV_STAMP): requirements/base.txt requirements/dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/base.txt -r requirements/dev.txt
	touch $(STAMP) $@

run: $(STAMP)
	mkdir -p var
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed --if-empty
	@echo ""
	@echo "  Admin:     http://$(HOST):$(PORT)/admin/"
	@echo "  API:       http://$(HOST):$(PORT)/api/v1/"
	@echo "  API docs:  http://$(HOST):$(PORT)/api/v1/docs/"
	@echo "  Demo accounts (password demo-pass-2021): admin, analyst_national, clerk_pingxiang,"
	@echo "             reviewer_pingxiang, inspector_jiangxi, clerk_wuzhou"
	@echo ""
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Without npm the TypeScript client test skips, saying why.
$(TS_STAMP): $(TS_CLIENT)/package.json $(TS_CLIENT)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(TS_CLIENT) --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: tests/clients/test_typescript_client.py will be skipped"; \
	fi

test: $(DEV_STAMP) $(TS_STAMP)
	mkdir -p var
	$(BIN)/ruff check .
	DEBUG=true $(BIN)/python manage.py check
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

# Production serving: needs SECRET_KEY, CHANGELOG_HMAC_KEY, PII_ENCRYPTION_KEY, PII_HASH_KEY,
# ALLOWED_HOSTS and DATABASE_URL in the environment (see .env.example).
# Timeouts (README, Configuration): every request is bounded by design (paged lists; imports,
# exports and whole-log verifies above their thresholds run as background jobs), so --timeout is a
# safety net that restarts a stuck worker, set well above the slowest bounded request; a worker
# finishing a request gets --graceful-timeout on restart or deploy.
serve: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/gunicorn tracker.wsgi:application --bind $(HOST):$(PORT) --workers $${WORKERS:-2} \
		--timeout $${GUNICORN_TIMEOUT:-60} --graceful-timeout 30 --keep-alive 5 --access-logfile -

# A background-job worker (Celery on Redis): needs CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)
# and the same DATABASE_URL and keys as `make serve`. Run one per machine, as many machines as needed.
worker: $(STAMP)
	$(BIN)/celery -A tracker worker --loglevel=info --concurrency=$${WORKER_CONCURRENCY:-2}

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: | $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras -o requirements/base.txt requirements/base.in
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras -o requirements/dev.txt requirements/dev.in

clean:
	rm -rf $(VENV) var $(TS_CLIENT)/node_modules

# Benchmarks: the import and the read path against same-run baselines (hand-written views, byte-identical
# JSON), on SQLite and (with DATABASE_URL) PostgreSQL; BENCH_ARGS="--scale 1.0" for the issue's data size.
bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Load that loses nothing: gunicorn on PostgreSQL under a bureau's day (locust, loopback only), then the
# same with PostgreSQL restarted in the middle; every acknowledged write checked afterwards. Needs
# DATABASE_URL=postgres://... on 127.0.0.1 (database <name>_load is created and dropped) and root for
# pg_ctlcluster. LOAD_ARGS="--duration 60 --users 16 --workers 4"; see README, Reliability.
load: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.load $(LOAD_ARGS)
