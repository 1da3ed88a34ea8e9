# Two commands do everything on a fresh clone:
#   make demo   the main job on the embedded demo dataset
#   make test   every notebook's cells + tests/ (pytest summary at the end)
# Both create .venv and install the package (editable, with dev extras) the first time.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= demo_run

.PHONY: env demo test bench export clean-nbs docs readme docs-check

env: $(STAMP)

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/audiotag2019 demo --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider tests

bench: $(STAMP)
	$(BIN)/python scripts/bench_spectrogram.py

export: $(STAMP)
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean

docs: $(STAMP)
	$(BIN)/python scripts/build_docs.py

# the same site, then every page opened in headless Chromium (Debian: apt-get install chromium)
docs-check: $(STAMP)
	$(BIN)/python scripts/build_docs.py --check

readme: $(STAMP)
	$(BIN)/python scripts/build_readme.py
