# postdesk: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config.example.toml
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench clean

# Create the virtualenv and install postdesk with its test tools (again when pyproject changes),
# byte-compiled as pip compiles an installed package (commands start faster).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q postdesk ingest notify store
	touch $(STAMP)

# Upgrade the database schema, then run the daemon with config.example.toml until Ctrl-C.
run: $(STAMP)
	$(BIN)/postdesk --config $(CONFIG) db upgrade
	$(BIN)/postdesk --config $(CONFIG) serve

# The whole suite: unit, store (SQLite and PostgreSQL), SMTP, IMAP (Dovecot), end-to-end.
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Benchmarks print figures; they are not tests.
bench: $(STAMP)
	$(BIN)/python bench/redact.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/smtp.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
