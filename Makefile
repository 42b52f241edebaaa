# Two entry points that work on a fresh machine with Python 3.11:
#   make demo   the main job (robust-cli benchmark on the embedded default data)
#   make test   every test, then the strict docs build
# and `make wheel-check`: the built wheel in a fresh virtual environment, as a user installs it (CI runs it).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS := test,docs
# A stamp names what was installed: a change of pyproject.toml or of this file gives another name, so the next target
# reinstalls (also when pyproject.toml goes back to an earlier content: old stamps are removed). `make demo` installs
# the package alone (what the main job needs); `make test` adds the test and docs extras (PyTorch CPU, JAX, MkDocs).
CKSUM := $(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)
DEMO_STAMP := $(VENV)/.installed-demo-$(CKSUM)
STAMP := $(VENV)/.installed-full-$(CKSUM)

$(DEMO_STAMP): pyproject.toml Makefile
	@echo "Installing keras_robust and TensorFlow into $(VENV): minutes the first time (TensorFlow is large)"
	$(PYTHON) -m venv $(VENV)
	rm -f $(VENV)/.installed-demo-*
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml Makefile
	@echo "Installing keras_robust[$(EXTRAS)] (TensorFlow, PyTorch CPU, JAX, MkDocs) into $(VENV): minutes the first time"
	$(PYTHON) -m venv $(VENV)
	rm -f $(VENV)/.installed-full-*
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

.PHONY: install demo test docs wheel-check
install: $(STAMP)

# --overwrite: a rerun replaces the report it wrote itself; anything else in robust-benchmark/ is refused, not deleted.
demo: $(DEMO_STAMP)
	@echo "robust-cli benchmark: ResNet20 against ResNet20PP, 500 embedded CIFAR-10 images x 19 corruptions x 5 severities"
	$(BIN)/robust-cli benchmark --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest -q
	$(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

wheel-check: $(STAMP)
	bash .ci/wheel_check $(PYTHON)
