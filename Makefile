# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: run test install install-dev lint typecheck pytest bench browser-deps browser-check constraints clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "raceday needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)

## The venv's packages are installed by uv (itself a package from the same registry, pinned in
## constraints.txt): a fresh venv of everything `make test` needs in ≈ 22 s against pip's 71 s on
## the 2-core machine, the same versions (docs/PERFORMANCE.md). uv reads no pip.conf: where it
## cannot install (a private index set only for pip, no registry), pip installs as before.
## --compile-bytecode compiles every installed module on every core: this machine's shell sets
## PYTHONDONTWRITEBYTECODE=1, so a venv without .pyc files would compile them in every process.
define install_packages
	$(PIP) install -q -c constraints.txt uv || true
	$(BIN)/python -m uv pip install -q --python $(BIN)/python --compile-bytecode -c constraints.txt $(1) \
		|| { echo "uv could not install: installing with pip"; $(PIP) install -q -c constraints.txt $(1); }
endef

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(call install_packages,-e .)
	touch $@

## one install of everything make test needs (the run's dependencies among them)
$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(call install_packages,-e '.[dev]')
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: simulate today's 200-race NAR day and run the daily flow (SQLite under var/); on
## an empty store first the day before and a first model on short demo windows (cli/demo.py)
run: install
	$(BIN)/raceday run --demo

## make test: ruff, then mypy beside pytest (mypy's ~20 s of one core fit in the suite's waits
## on its servers and subprocesses); -Oline keeps each line of their output whole
test: lint
	$(MAKE) --no-print-directory -j 2 -Oline typecheck pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

## the suite runs on every core and one more (pytest-xdist: many tests wait on a Prefect server,
## a subprocess or PostgreSQL, and the extra worker fills those waits), a test file per worker
## so module fixtures are built once, the slow files first (pyproject's addopts);
## PYTEST_WORKERS=0 runs it in one process. The suite writes the project's bytecode (and
## pytest's rewritten test modules) to __pycache__ (git-ignored) even where the shell sets
## PYTHONDONTWRITEBYTECODE: without it every worker and every command a test runs compiled them
## again (collection 13.6 s of CPU a worker, 7.3 s with them written; docs/PERFORMANCE.md)
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
pytest: install-dev
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

bench: install-dev
	$(BIN)/python benchmarks/bench_daily.py

## make browser-check: the Prefect UI and the HTML report in headless Chromium (docs/MONITORING.md).
## browser-deps installs Chromium and a Japanese font with apt-get when missing (Debian, as
## root); .ci/run does it too, so the browser checks run on every landing.
browser-deps:
	@if ! command -v chromium >/dev/null || ! fc-list :lang=ja | grep -q .; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver fonts-ipafont-gothic; \
	fi

browser-check: install-dev browser-deps
	RACEDAY_TEST_REQUIRE_BROWSER=1 $(BIN)/pytest tests/e2e/test_browser.py

constraints: install-dev
	{ grep '^#' constraints.txt; $(PIP) freeze --exclude-editable | grep -v '^raceday'; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
