# amokpi — the README's two set-up commands are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install demo test test-slow test-unit sql-lint pytest lint bench clean chromium postgres kpis

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is required (python3.11 or python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

demo: install
	$(BIN)/amokpi demo

# The report's end-to-end test drives Debian's headless Chromium; install it once if it is missing.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell test "$$(id -u)" -eq 0 || echo sudo)

chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

# The PostgreSQL known-answer test (tests/python/test_known_answer_postgres.py) starts a throwaway PostgreSQL 15
# of its own (initdb + pg_ctl on loopback, removed afterwards); install Debian's binaries once if they are missing,
# without the package's own always-on cluster (create_main_cluster = false).
PG_INITDB ?= /usr/lib/postgresql/15/bin/initdb

postgres:
	@test -x $(PG_INITDB) || command -v initdb >/dev/null || { \
		$(SUDO) mkdir -p /etc/postgresql-common && \
		echo "create_main_cluster = false" | $(SUDO) tee /etc/postgresql-common/createcluster.conf >/dev/null && \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends -o Dpkg::Options::=--force-confold postgresql-15; }

# The tests keep both cores busy, so SQL lint (~40 s of one core) is not among them: `make lint`, pre-commit and
# .ci/run (after `make test`) run it.
test: $(VENV)/.installed-test chromium postgres
	$(BIN)/ruff check .
	$(BIN)/python -m amokpi.kpi_codegen --check
	@$(MAKE) --no-print-directory pytest

# The heavier checks `make test` leaves out to stay within 5 minutes (pytest's `slow` marker): the whole dbt build
# on PostgreSQL, the browser tours and the OpenID sign-in, an analyst's seed edit on a freshly parsed copy, the
# scale tests. CI (.ci/run) runs them after `make test`; `make bench` too.
test-slow: $(VENV)/.installed-test chromium postgres
	$(BIN)/python -m pytest -m slow

sql-lint: $(VENV)/.installed-test
	PYTHONWARNINGS=ignore $(BIN)/sqlfluff lint models --processes 1 --disable-progress-bar

pytest: $(VENV)/.installed-test
	$(BIN)/python -m pytest

# the pyramid's fast layer: every test that neither builds nor reads a dbt-built warehouse
test-unit: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not slow and not integration"

# ingestion figures; the full dbt build on DuckDB and on PostgreSQL 15 (times and ratio); the slow tests
# (the whole dbt build on PostgreSQL over the known-answer account: no error, no skip)
# ... and one table per size of the scalable demo account (`make bench SIZES="S M L XL"`; README, Benchmarks at scale)
SIZES ?= S M

bench: $(VENV)/.installed-test postgres
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/warehouse_bench.py
	$(BIN)/python bench/report_bench.py
	$(BIN)/python -m pytest -m slow -n 0 -p no:cacheprovider
	$(BIN)/python bench/scale_bench.py $(SIZES)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	PYTHONWARNINGS=ignore $(BIN)/sqlfluff lint models --processes 2

# regenerate what the dbt project derives from dbt_project/seeds/kpi_registry.csv (amokpi/kpi_codegen.py)
kpis: install
	$(BIN)/python -m amokpi.kpi_codegen

clean:
	rm -rf target logs data .pytest_cache .ruff_cache
