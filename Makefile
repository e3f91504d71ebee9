# Ticket Net e-portfolio. The two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
PIP := $(BIN)/python -m pip
CONSTRAINTS := requirements/constraints.txt
TRANSLATIONS := portfolio/translations
# The OpenID Provider of the single sign-on tests (npm package oidc-provider, pinned by package-lock.json).
OIDC_DIR := tests/oidc
# The second implementation that checks the badges' proofs (npm package jsonld, pinned by package-lock.json).
VC_DIR := tests/vc

.PHONY: run test install install-bench install-test translations compile-translations extract-translations lint clean help

help:
	@echo "make run    install, initialise the SQLite database, load demo data, serve http://$(HOST):$(PORT)"
	@echo "make test   install the test extras and run the whole suite"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml setup.py $(CONSTRAINTS) | $(BIN)/python
	$(PIP) install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $@

install: $(VENV)/.installed compile-translations

$(OIDC_DIR)/node_modules/.installed: $(OIDC_DIR)/package.json $(OIDC_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(OIDC_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm is missing: the single sign-on tests will be skipped (apt-get install -y nodejs npm)"; \
	fi

$(VC_DIR)/node_modules/.installed: $(VC_DIR)/package.json $(VC_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(VC_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm is missing: the independent check of the badges' proofs will be skipped"; \
	fi

# The load test (bench/load.py): locust.
install-bench: $(VENV)/.installed
	$(PIP) install --quiet -c $(CONSTRAINTS) -e '.[bench]'

install-test: $(VENV)/.installed-test $(OIDC_DIR)/node_modules/.installed $(VC_DIR)/node_modules/.installed \
	compile-translations

compile-translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)

# Developers: after changing user-visible strings, refresh the catalogues, then translate the new
# English entries in portfolio/translations/en/LC_MESSAGES/messages.po.
translations: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k N_ --project=ticketnet --no-location \
		--sort-output --omit-header -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

run: install
	$(BIN)/ticketnet init
	$(BIN)/ticketnet demo
	@echo "Ticket Net : http://$(HOST):$(PORT)  (Ctrl+C pour arrêter)"
	$(BIN)/ticketnet run --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/python -m pip install --quiet ruff==0.17.6
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache $(OIDC_DIR)/node_modules
