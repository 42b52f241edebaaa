# Two entry points that work on a fresh machine with Python 3.11:
#   make demo   the main job (robust-cli benchmark on the embedded default data)
#   make test   every test, then the strict docs build
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,docs,plots]"
	touch $@

.PHONY: install demo test docs
install: $(STAMP)

demo: $(STAMP)
	$(BIN)/robust-cli benchmark

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site
