# Two commands for a newcomer: `make run` and `make test`. Both create .venv when it is
# missing and (re)install kapp into it when pyproject.toml changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kapp-installed

.PHONY: run test lint install demo clean stress

run: $(STAMP)
	$(BIN)/kapp $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

install: $(STAMP)

# 1,000 crash rounds: a child records entries and is SIGKILLed at a random moment; every
# entry it reported saved must be there, whole (see docs/reliability.md). About 10 minutes.
stress: $(STAMP)
	$(BIN)/python -m kapp.devtools.crash stress --rounds $(or $(ROUNDS),1000)

# A demo clinic to look around in: make demo, then make run ARGS="--db demo.db"
demo: $(STAMP)
	$(BIN)/kapp demo --db demo.db --patients 40

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
	  "kapp needs Python 3.11 or newer; this is " + sys.version.split()[0] + \
	  ". Install a newer Python or run: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
