# Two entry points that work on a fresh machine with Python 3.11:
#   make demo   the main job (robust-cli benchmark on the embedded default data)
#   make test   every test, then the strict docs build
# and `make wheel-check`: the built wheel in a fresh virtual environment, as a user installs it (CI runs it).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS := test,docs
# The stamp names what was installed: a change of pyproject.toml, of the extras or of this file gives another name,
# so the next target reinstalls (also when pyproject.toml goes back to an earlier content: old stamps are removed).
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	rm -f $(VENV)/.installed-*
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

.PHONY: install demo test docs wheel-check
install: $(STAMP)

demo: $(STAMP)
	$(BIN)/robust-cli benchmark

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

wheel-check: $(STAMP)
	bash .ci/wheel_check $(PYTHON)
