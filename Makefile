# make setup  - find Python 3.10, create .venv, install the pinned dependency set (quick when done)
# make run    - run the pipeline on the built-in sample (pass flags with ARGS="--epochs 5 ...")
# make test   - run the test suite (pass pytest flags with PYTEST_ARGS="-k example_gen ...")
# make benchmark-data - install Fashion-MNIST (Debian's dataset-fashion-mnist) for benchmarks/
# Python 3.10 is looked for as PYTHON=..., then python3.10 on PATH, then pyenv's 3.10.x versions.

SHELL := /bin/bash
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?=
ARGS ?=
PYTEST_ARGS ?=

.PHONY: setup browser run test clean benchmark-data

setup: $(STAMP)

$(STAMP): setup.py constraints.txt
	@set -euo pipefail; \
	is310() { "$$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }; \
	if [ -x "$(VENV_PYTHON)" ] && is310 "$(VENV_PYTHON)"; then \
	  py="$(VENV_PYTHON)"; \
	elif [ -n "$(PYTHON)" ]; then \
	  is310 "$(PYTHON)" || { echo "error: PYTHON=$(PYTHON) is not a working Python 3.10 (TFX 1.16 needs 3.10)." >&2; exit 1; }; \
	  py="$(PYTHON)"; \
	else \
	  py=""; \
	  candidates="python3.10"; \
	  if command -v pyenv >/dev/null 2>&1; then \
	    for v in $$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$$' | sort -t. -k3,3nr); do \
	      candidates="$$candidates $$(pyenv root)/versions/$$v/bin/python3.10"; \
	    done; \
	  fi; \
	  for c in $$candidates; do if is310 "$$c"; then py="$$c"; break; fi; done; \
	  if [ -z "$$py" ]; then \
	    echo "error: no Python 3.10 found (TFX 1.16 needs Python 3.10): install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv', or name one with 'make setup PYTHON=/path/to/python3.10'." >&2; \
	    exit 1; \
	  fi; \
	fi; \
	if [ "$$py" != "$(VENV_PYTHON)" ]; then \
	  echo "Creating $(VENV) with $$py ($$("$$py" -c 'import sys; print(sys.version.split()[0])'))"; \
	  rm -rf "$(VENV)"; \
	  "$$py" -m venv "$(VENV)"; \
	fi; \
	echo "Installing the pinned dependencies into $(VENV) (a few minutes the first time)"; \
	"$(VENV_PYTHON)" -m pip install --quiet --constraint constraints.txt --upgrade pip setuptools wheel; \
	"$(VENV_PYTHON)" -m pip install --quiet --constraint constraints.txt --editable '.[test]'; \
	touch "$(STAMP)"

run: setup
	$(VENV_PYTHON) pipeline/run_local.py $(ARGS)

# Headless Chromium renders the HTML reports in the tests; installed from Debian's packages when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "Installing chromium for the report rendering test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "note: chromium is not installed; the report rendering test will be skipped (install Debian's chromium package)"; \
	  fi; }

# Fashion-MNIST for benchmarks/ (not the tests), from Debian's packages when missing.
benchmark-data: setup
	@test -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	  else \
	    echo "error: install Debian's dataset-fashion-mnist package (Fashion-MNIST under /usr/share/datasets/fashion-mnist)" >&2; exit 1; \
	  fi; }

test: setup browser
	$(VENV_PYTHON) -m pytest tests --durations=15 $(PYTEST_ARGS)

clean:
	rm -rf outputs data/sample .pytest_cache
