# Two commands for a newcomer: `make run` and `make test`. Both create .venv when it is
# missing and (re)install kapp into it when pyproject.toml changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kapp-installed

.PHONY: run test test-postgres lint install demo bench screenshots stress clean

run: $(STAMP)
	$(BIN)/kapp $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# The storage, services, report, reliability and GUI suites and the CLI (--database-url) on
# a throwaway PostgreSQL server started from this machine's server binaries (see
# .ci/postgres-tests and
# docs/reliability.md "Testing on PostgreSQL"); installs the psycopg driver when missing.
test-postgres: $(STAMP)
	@$(BIN)/python -c "import psycopg" 2>/dev/null || \
	  $(BIN)/python -m pip install --quiet -e ".[test,postgres]"
	PYTHON=$(BIN)/python .ci/postgres-tests $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

install: $(STAMP)

# Ten years of a busy clinic (built once into .bench/, about 10 minutes), then every
# figure of docs/performance.md with its target and its ratio to a baseline.
bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench $(BENCH_ARGS)

# 1,000 crash rounds: a child records entries and is SIGKILLed at a random moment; every
# entry it reported saved must be there, whole (see docs/reliability.md). About 10 minutes.
stress: $(STAMP)
	$(BIN)/python -m kapp.devtools.crash stress --rounds $(or $(ROUNDS),1000)

# A demo clinic to look around in (encrypted; every demo account has DEMO_PASSWORD):
# make demo, then KAPP_PASSWORD=kapp-demo make run ARGS="--db demo.db --user nurse1"
DEMO_PASSWORD ?= kapp-demo
demo: $(STAMP)
	$(BIN)/kapp demo --db demo.db --patients 40 --password $(DEMO_PASSWORD)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
	  "kapp needs Python 3.11 or newer; this is " + sys.version.split()[0] + \
	  ". Install a newer Python or run: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

# Every main screen and step dialog rendered offscreen with synthetic clinic data, into
# docs/screenshots/ (every GUI test saves what it shows when KAPP_SCREENSHOTS is set; the
# whole-screen scenes at 1366x768 run only then).
screenshots: $(STAMP)
	rm -rf docs/screenshots
	QT_QPA_PLATFORM=offscreen KAPP_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q \
	  -p no:cacheprovider tests/ui

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .bench
