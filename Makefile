# Two entry points do all the set-up on a fresh machine:
#   make demo   colorize the bundled example photos with the bundled model
#   make test   run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser demo test bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch 2.14.1 + torchvision 0.29.1: the pair the suite and the benchmarks were run with
	$(BIN)/pip install --quiet "torch==2.14.1" "torchvision==0.29.1"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/colorgan colorize examples --out outputs/examples --overwrite

# The page's test drives Debian's chromium (no browser download: playwright uses this one)
browser:
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

test: $(STAMP) browser
	# -rs: say why each skipped test skipped; the browser test may not skip here
	COLORGAN_BROWSER_REQUIRED=1 $(BIN)/python -m pytest -q -rs

# The speed figures of BENCHMARKS.md (about 30 minutes on 2 cores; bf16_quality is separate:
# it needs ../shared and takes about an hour without native bf16).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.light
	$(BIN)/python -m benchmarks.colorize_fullres
	$(BIN)/python -m benchmarks.inference
	$(BIN)/python -m benchmarks.training
	$(BIN)/python -m benchmarks.video

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

clean:
	rm -rf outputs .pytest_cache
