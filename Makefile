# Two entry points: `make demo` (set up, then run the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean browser

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev,demo,ml,dashboard,onnx,ray]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/wattwise demo

# Chromium and its driver for the browser tests (tests/server/test_browser.py): installed
# with apt-get when run as root; otherwise those tests are skipped and say how to enable them.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) \
	      || echo "could not install chromium: the browser tests will be skipped"; \
	  else echo "no chromium: the browser tests will be skipped (apt-get install chromium chromium-driver)"; fi; }

test: $(STAMP) browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_overhead.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
