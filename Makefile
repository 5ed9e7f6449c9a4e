# Two entry points do all the set-up on a fresh machine:
#   make demo   colorize the bundled example photos with the bundled model
#   make test   run the test suite (make test-fast: the tests that take about a minute)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser demo test test-fast bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch 2.14.1 + torchvision 0.29.1: the pair the suite and the benchmarks were run with
	$(BIN)/pip install --quiet "torch==2.14.1" "torchvision==0.29.1"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/colorgan colorize examples --out outputs/examples --overwrite

# The page's test drives Debian's chromium (no browser download: playwright uses this one).
# Installed with apt-get as root, through sudo for another user; where neither can, the
# browser test skips with one line saying why (CI runs as root, where it may not skip).
browser:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	elif command -v sudo >/dev/null; then \
	  echo "make: installing Debian's chromium with sudo (the page's browser test drives it)"; \
	  sudo apt-get update -qq && sudo apt-get install -y -qq chromium || true; \
	else echo "make: no chromium, and no root or sudo to install it: the page's browser test will skip"; fi

test: $(STAMP) browser
	# -rs: say why each skipped test skipped; with chromium here, the browser test may not skip.
	# -n 2: two pytest-xdist workers (of one torch thread each, tests/conftest.py), so that one
	# works while the other waits on the commands, servers and clusters it started; each test
	# file goes to one worker (--dist loadfile): its module fixtures (a Ray cluster) start once
	COLORGAN_BROWSER_REQUIRED=$$(command -v chromium >/dev/null && echo 1) \
		$(BIN)/python -m pytest -q -rs -n 2 --dist loadfile

# The tests that need no other process, browser, film or training run and are not slow (the
# markers in pyproject.toml), in about a minute on 2 cores. Those that need no torch run with
# it made impossible to import (tests/torch_free.py), which proves they need none.
FAST := -m "not (subprocess or browser or film or training or slow)"
TORCH_FREE := tests/test_layout.py tests/test_config.py tests/test_config_upgrade.py \
	tests/test_files.py tests/test_images.py tests/test_request.py tests/training/test_photos.py \
	tests/test_spread.py

test-fast: $(STAMP)
	$(BIN)/python -m tests.torch_free -q $(FAST) $(TORCH_FREE)
	$(BIN)/python -m pytest -q $(FAST) $(addprefix --ignore=,$(TORCH_FREE))

# The speed figures of BENCHMARKS.md (about 50 minutes on 2 cores; bf16_quality is separate:
# it needs the development photos and takes about an hour without native bf16).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.light
	$(BIN)/python -m benchmarks.colorize_fullres
	$(BIN)/python -m benchmarks.inference
	$(BIN)/python -m benchmarks.training
	$(BIN)/python -m benchmarks.video
	$(BIN)/python -m benchmarks.cluster

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

clean:
	rm -rf outputs .pytest_cache
