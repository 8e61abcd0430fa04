# Every target CI runs is here; `make test` is exactly what .ci/run calls.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
# `make run` needs the runtime and the local stack only; `make test` adds the dev tools.
RUN_STAMP := $(VENV)/.installed-local-$(SUM)
STAMP := $(VENV)/.installed-$(SUM)

.PHONY: run test test-fast tools lint typecheck pytest install clean bench-detect

run: $(RUN_STAMP)  ## Start embedded PostgreSQL + the S3/SQS emulator and run the worker.
	$(BIN)/ingest-worker demo

test: tools lint typecheck pytest  ## Everything CI checks.

# promtool (Debian's prometheus package) checks the alert rules and a metrics scrape. CI
# (root, apt) installs it; elsewhere those checks are skipped with the reason.
tools:
	@command -v promtool >/dev/null 2>&1 || { [ "$$CI" = "true" ] && [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null 2>&1 && apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		prometheus >/dev/null; } || echo "promtool not installed: its checks will be skipped"

lint: $(STAMP)
	$(BIN)/ruff check worker tests $(wildcard bench)
	$(BIN)/ruff format --check worker tests $(wildcard bench)

typecheck: $(STAMP)
	$(BIN)/mypy

# Test processes (pytest-xdist): each has its own PostgreSQL server and S3/SQS emulator;
# a free one takes the next test (worksteal), so the long kill tests do not hold the rest.
TEST_PROCESSES ?= 2
pytest: $(STAMP)
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist worksteal

# The unit and integration layers (no command-line processes): the loop while coding.
test-fast: $(STAMP)
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist worksteal tests/unit tests/integration

install: $(STAMP)

CORPUS ?= ../shared/corpus
bench-detect: $(STAMP)  ## Detection accuracy on a corpus: make bench-detect CORPUS=dir
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/detect.py $(CORPUS)
	$(BIN)/python bench/detect.py --generated
	$(BIN)/python bench/detect.py --random 1000

$(RUN_STAMP):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local]'
	rm -f $(VENV)/.installed-local-*
	touch $@

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(filter-out $(RUN_STAMP),$(wildcard $(VENV)/.installed-*))
	touch $@

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .local
