# Two commands on a fresh machine:  `make run`  (the desk with demo data)  and  `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
TEST_REDIS_URL    ?= redis://127.0.0.1:6379
PYTEST_ARGS ?= -n 2

.PHONY: run lint test test-sqlite test-postgres install install-dev browser bench clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## The desk on its embedded defaults (SQLite in instance/, embedded Redis), with demo data.
run: install
	$(FLASK) serve

## Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@test -x /usr/bin/chromium || { echo "installing chromium (apt-get)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core) >/dev/null; }

## Static checks: ruff (style, bugs, imports, naive datetimes) and mypy (types) over desk/ and workers/.
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

## The whole suite, on SQLite and then on PostgreSQL, with a real Redis and Chromium.
test: install-dev browser
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests

test-sqlite: install-dev
	$(PY) -m pytest -q $(PYTEST_ARGS) tests

test-postgres: install-dev
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -q $(PYTEST_ARGS) tests

bench: install-dev
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
