"""Pipeline steps: ingest (dlt), build (dbt), validate (Great Expectations), publish (serving copy).

`QualityGate` runs the checked sequence of `amokpi run`: GX on the raw tables (their shape and volume),
dbt source freshness (recorded, never blocking), then dbt build with its tests and contracts (each
invariant is owned by one tool); every result goes to marts.data_quality_runs under one run id and
into the GX Data Docs; publishing refuses while any `error`-severity check failed, so the report
keeps showing the last good data. `warn` results pass and are listed."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import dlt
import duckdb
from dlt.common.destination import Destination
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from amokpi.settings import (
    DBT_PROFILES_DIR,
    PROJECT_ROOT,
    RAW_DATASET,
    demo_seeds,
    postgres_credentials,
    report_path,
    target,
    warehouse_path,
)
from ingestion.amocrm import RAW_COLUMNS, amocrm_source
from ingestion.amocrm.client import AmoCrmError
from ingestion.amocrm.oauth import OAuthError
from ingestion.amocrm.progress import Progress
from ingestion.pipeline import build_state, locks
from ingestion.pipeline.preflight import explain
from ingestion.pipeline.processes import GRACE_SECONDS, run_child, start_child, stop_child, wait_child

if TYPE_CHECKING:
    from expectations.runner import ValidationReport


class StepFailed(RuntimeError):
    """A pipeline step failed; the message says what and where to look."""


@dataclass
class IngestSummary:
    rows: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    quarantined: int = 0
    incomplete: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        total = sum(n for t, n in self.rows.items() if t != "quarantine")
        rate = self.requests / self.seconds if self.seconds else 0.0
        line = (f"ingest: {total} rows into {len([t for t in self.rows if t != 'quarantine'])} tables, "
                f"{self.requests} requests ({rate:.1f}/s) in {self.seconds:.1f}s")
        if self.quarantined:
            line += f"; {self.quarantined} records quarantined (see raw_amocrm.quarantine)"
        if self.incomplete:
            line += f"; INCOMPLETE: {', '.join(sorted(self.incomplete))}"
        return line


class IngestIncomplete(StepFailed):
    """Good records loaded, but some resource stopped early; the next run fetches the rest."""

    def __init__(self, summary: IngestSummary) -> None:
        reasons = "; ".join(f"{name}: {why}" for name, why in sorted(summary.incomplete.items()))
        super().__init__(f"ingest incomplete — {reasons}")
        self.summary = summary


def pipeline_name(base_url: str) -> str:
    """One dlt pipeline (and so one set of cursors) per amoCRM account address."""
    return "amokpi_amocrm_" + locks.account_key(base_url)


# DuckDB's memory while dlt loads (its default is 80 % of the machine's): the copy into staging and the merge's
# dedup (a window over every staged row) otherwise grow with the load, 1.6 GB at 100k leads; capped, DuckDB
# spills to <warehouse>.tmp and the load stays ~250 MB above the process at any size (DECISIONLOG 2026-12-02,
# ingest memory). One job at a time, so the jobs never share the cap: 20 parallel copies ran out of it.
LOAD_MEMORY_LIMIT = "256MB"


def destination(connection: duckdb.DuckDBPyConnection | None) -> Destination:
    """dlt's destination for the target engine (amokpi.settings.target): PostgreSQL, or the DuckDB file behind
    `connection` (see `warehouse_pipeline`)."""
    if target() == "postgres":
        return dlt.destinations.postgres(credentials=postgres_credentials())
    credentials = DuckDbCredentials(connection, global_config={"memory_limit": LOAD_MEMORY_LIMIT})
    return dlt.destinations.duckdb(credentials, loader_parallelism_strategy="sequential")


@contextmanager
def warehouse_pipeline(warehouse: Path, base_url: str) -> Iterator[dlt.Pipeline]:
    """The account's dlt pipeline, loading into the warehouse through one DuckDB connection held for the whole
    ingest. dlt's pool closes the file when its last borrower returns, and jobs running one at a time each were
    the last: it reopened (and, closing, checkpointed) the file once per load job, 33 times for a small account,
    a third of a small ingest's CPU. dlt never closes a connection it was given; this does, after the run."""
    # pipeline state lives beside its warehouse, so two warehouses never share an incremental cursor,
    # and is named for the account, so two accounts loaded into one warehouse never share one either
    # (on PostgreSQL the warehouse path anchors only this state; dlt also keeps it in the database)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(str(warehouse)) if target() == "duckdb" else None
    try:
        yield dlt.pipeline(
            pipeline_name=pipeline_name(base_url),
            pipelines_dir=str(warehouse.parent / f".dlt_{warehouse.stem}"),
            destination=destination(connection),
            dataset_name=RAW_DATASET,
        )
    finally:
        if connection is not None:
            connection.close()


def _root_cause(exc: BaseException) -> BaseException:
    """The error worth showing: our own advice if the chain holds it, else the innermost cause."""
    chain = [exc]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
    advice = [e for e in chain if isinstance(e, AmoCrmError | OAuthError)]
    return advice[0] if advice else chain[-1]


def _why(exc: BaseException, warehouse: Path) -> str:
    cause = _root_cause(exc)
    return explain(cause, warehouse) or str(cause)


def ingest(warehouse: Path | None = None, full_refresh: bool = False, progress: bool = False,
           lock_wait: float = 0.0, **source_kwargs: object) -> IngestSummary:
    """Load the amoCRM account named by `sources.amocrm.*` config into `raw_amocrm`.

    One ingest per account (whatever the warehouse) and one writer per warehouse at a time: a
    second waits up to `lock_wait` seconds, then raises LockBusy naming the holder.
    Raises IngestIncomplete after loading what was good when a resource had to stop early."""
    # dlt reports every run's steps to dlthub's server unless told not to: a sales warehouse talks to its
    # amoCRM account and to nobody else (RUNTIME__DLTHUB_TELEMETRY=true opts in);
    # before dlt's first look at its config, which starts its runtime
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    warehouse = warehouse or warehouse_path()
    base_url = str(source_kwargs.get("base_url") or dlt.config.get("sources.amocrm.base_url") or "")
    if not base_url:
        raise StepFailed("no amoCRM address: set SOURCES__AMOCRM__BASE_URL (https://<subdomain>.amocrm.ru)")
    with locks.hold(locks.account_lock_path(base_url), f"amoCRM account {urlsplit(base_url).netloc or base_url}",
                    lock_wait), \
            locks.hold(locks.warehouse_lock_path(warehouse), f"warehouse {warehouse}", lock_wait):
        return _ingest_locked(warehouse, base_url, full_refresh, progress, source_kwargs)


def _ingest_locked(warehouse: Path, base_url: str, full_refresh: bool, progress: bool,
                   source_kwargs: dict[str, object]) -> IngestSummary:
    tally = Progress(enabled=progress)
    started = time.monotonic()
    # the source's intermediate files (jsonl, read once by normalize moments later) uncompressed:
    # gzip cost more CPU than anything else in extract (DECISIONLOG 2026-12-02, a lean ingest);
    # dlt resolves the writer's settings in the source's section while it extracts
    os.environ.setdefault("SOURCES__AMOCRM__DATA_WRITER__DISABLE_COMPRESSION", "true")
    # a nightly run keeps no second copy of what it loaded: dlt would keep every load package's files
    # (1.4 GB after a first load of 1M leads) and the merge's staging tables (a copy of the last load's
    # rows) for good; both are written again by the next load, so keeping them only grows the disk
    os.environ.setdefault("LOAD__DELETE_COMPLETED_JOBS", "true")
    os.environ.setdefault("LOAD__TRUNCATE_STAGING_DATASET", "true")
    # PostgreSQL loads parquet only through ADBC; there dlt's default (INSERT statements) is used
    file_format = "parquet" if target() == "duckdb" else None
    try:
        with warehouse_pipeline(warehouse, base_url) as pipeline:
            source = amocrm_source(progress=tally, **source_kwargs)
            # what is alive now (modules, pipeline, source) outlives the run: the cyclic collector leaves it be
            # instead of rescanning it whenever parsed pages fill a generation (~15 % of ingest CPU at S)
            gc.collect()
            gc.freeze()
            try:  # --full-refresh drops the raw tables (of every account in this warehouse) and the cursors
                pipeline.run(source, loader_file_format=file_format, refresh="drop_sources" if full_refresh else None)
            finally:
                gc.unfreeze()
            ensure_raw_tables(pipeline)
    except Exception as exc:  # dlt wraps resource errors; surface the root cause, never a secret
        raise StepFailed(f"ingest failed: {_why(exc, warehouse)}") from exc
    finally:
        tally.quiet()  # hand the account over with amoCRM's windows empty (at most 1 s)
    summary = IngestSummary(seconds=time.monotonic() - started, quarantined=tally.quarantined,
                            incomplete=dict(tally.incomplete))
    normalize = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    if normalize is not None:
        summary.rows = {t: n for t, n in normalize.row_counts.items() if not t.startswith("_dlt")}
    summary.requests = tally.requests
    if summary.incomplete:
        raise IngestIncomplete(summary)
    return summary


# the column types dlt gives these data types on each engine (json is jsonb on PostgreSQL)
_RAW_TYPES = {
    "duckdb": {"bigint": "BIGINT", "text": "VARCHAR", "json": "JSON", "bool": "BOOLEAN", "double": "DOUBLE"},
    "postgres": {"bigint": "bigint", "text": "varchar", "json": "jsonb", "bool": "boolean",
                 "double": "double precision"},
}


def ensure_raw_tables(pipeline: dlt.Pipeline) -> list[str]:
    """Create, empty, every raw table the account had no records for (dlt creates tables only
    when rows arrive), so staging always finds its sources. Returns the tables created.
    Through the pipeline's own connection (on DuckDB the one its ingest holds)."""
    types = _RAW_TYPES[target()]
    created = []
    with pipeline.sql_client() as client:
        existing = {name for (name,) in client.execute_sql(
            "select table_name from information_schema.tables where table_schema = %s", RAW_DATASET) or []}
        for table, columns in RAW_COLUMNS.items():
            if table in existing:
                continue
            ddl = ", ".join(f'"{name}" {types[dtype]}' for name, dtype in columns.items())
            client.execute_sql(f'create schema if not exists "{RAW_DATASET}"')
            client.execute_sql(f'create table "{RAW_DATASET}"."{table}" ({ddl}, "_dlt_load_id" {types["text"]}, '
                               f'"_dlt_id" {types["text"]})')
            created.append(table)
    return created


def dbt_target_dir() -> Path:
    """Where dbt writes its artifacts (manifest.json, run_results.json): dbt's own DBT_TARGET_PATH
    (relative to the project) if set, else target/. Runs that may overlap (parallel test workers)
    each set their own, so one never reads the other's results."""
    path = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    return path if path.is_absolute() else PROJECT_ROOT / path


def dbt_args(command: str, warehouse: Path, *extra: str) -> list[str]:
    demo = ["--vars", "{demo_seeds: true}"] if demo_seeds() else []
    return [*command.split(), "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(DBT_PROFILES_DIR),
            "--target-path", str(dbt_target_dir()), *demo, *extra]


# The newest load id the last build read (empty: none), for the incremental models (models/intermediate/
# int_calls_deduplicated.sql). An environment variable, not a var: dbt re-parses the whole project when a var
# changes, but only the files that read an environment variable when it does.
CHANGED_SINCE_ENV = "AMOKPI_CHANGED_SINCE_LOAD_ID"


def run_dbt(command: str, warehouse: Path | None = None, *extra: str, changed_since: str | None = None) -> None:
    """Run a dbt command against the warehouse; raise StepFailed on any failure.

    dbt runs in its own process: dbt-duckdb keeps the DuckDB file open for the life of the
    process, which would lock out the validation and publish steps that follow. (Several commands in one
    dbt process: DbtSession.)
    """
    warehouse = warehouse or warehouse_path()
    cmd = [str(Path(sys.executable).with_name("dbt")), *dbt_args(command, warehouse, *extra)]
    # its own process group, ended with us: a killed `amokpi run` never leaves dbt holding the lock
    _dbt_done(command, run_child(cmd, env=_dbt_env(warehouse, changed_since), cwd=PROJECT_ROOT))


def _dbt_env(warehouse: Path, changed_since: str | None) -> dict[str, str]:
    return {**os.environ, "AMOKPI_WAREHOUSE": str(warehouse), CHANGED_SINCE_ENV: changed_since or ""}


def _dbt_done(command: str, code: int) -> None:
    if code != 0:
        raise StepFailed(f"dbt {command} failed (exit {code}): see the dbt output above "
                         f"and {dbt_target_dir() / 'run_results.json'}")


class DbtSession:
    """`before` and then `command` in one dbt process (ingestion/pipeline/dbt_session.py), started at once: it
    imports dbt and parses the project, which never opens the warehouse, then waits for `run()` before running
    anything. So `amokpi run` starts it before validating the raw data, and dbt's start-up (~4 s of one core)
    runs beside GX's on the other core instead of after it. `abandon()` ends it unrun (a no-op once run)."""

    def __init__(self, command: str, warehouse: Path | None = None, *extra: str, changed_since: str | None = None,
                 before: Sequence[str] = ()) -> None:
        warehouse = warehouse or warehouse_path()
        self.command = command
        commands = [*(c.split() for c in before), [*command.split(), *extra]]
        plan = {"common": dbt_args("", warehouse), "commands": commands, "gate": True}
        cmd = [sys.executable, "-m", "ingestion.pipeline.dbt_session", json.dumps(plan)]
        # its own process group, ended with us: a killed `amokpi run` never leaves dbt holding the lock
        self.child = start_child(cmd, env=_dbt_env(warehouse, changed_since), cwd=PROJECT_ROOT,
                                 stdin=subprocess.PIPE)
        self.ran = False

    def run(self) -> None:
        """Let it run its commands and wait for them; StepFailed if the last one failed or dbt could not run."""
        self.ran = True
        self._say("go\n")
        _dbt_done(self.command, wait_child(self.child))

    def abandon(self) -> None:
        """End it unrun: the end of its input stops it once it has parsed (bounded, then it is stopped)."""
        if not self.ran:
            self.ran = True
            self._say("")
            try:
                self.child.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                stop_child(self.child)

    def _say(self, line: str) -> None:
        assert self.child.stdin is not None
        try:
            self.child.stdin.write(line.encode())
            self.child.stdin.close()
        except BrokenPipeError:  # it has ended already (its parse failed and said so): its exit code tells
            pass


def build_args(with_tests: bool = True, full_refresh: bool = False, unit_tests: bool = False) -> list[str]:
    """`dbt build`'s own flags: unit tests and (when not `with_tests`) data tests left out, --full-refresh."""
    left_out = ([] if unit_tests else ["unit_test"]) + ([] if with_tests else ["test"])
    return [*(arg for kind in left_out for arg in ("--exclude-resource-type", kind)),
            *(["--full-refresh"] if full_refresh else [])]


def build(warehouse: Path | None = None, run_id: str | None = None, with_tests: bool = True,
          full_refresh: bool = False, changed_since: str | None = None, freshness: bool = False,
          unit_tests: bool = False, session: DbtSession | None = None) -> None:
    """dbt build; its test results (and any failed node) are stored in marts.data_quality_runs.
    `with_tests=False` builds seeds and models only (for warehouses built as test fixtures, whose
    subject is not the dbt tests: each invariant is owned by one test run, not by every fixture).
    dbt's unit tests are left out unless `unit_tests`: they test the SQL, not the data, so they run once in
    `make test` (the known-answer fixture's build, tests/python/conftest.py) and in an analyst's own `dbt build`,
    not nightly.
    `full_refresh`: rebuild the incremental models from scratch (dbt's --full-refresh). `changed_since`: the
    newest load id the last build read; the incremental models then recompute only what later loads touched
    (env AMOKPI_CHANGED_SINCE_LOAD_ID; without it they recompute every row). `freshness`: dbt source freshness
    first, in the same dbt process, recorded as `source_freshness` records it (a stale source never fails this).
    `session`: that dbt process, started ahead with these same arguments (start_build); it is run here."""
    warehouse = warehouse or warehouse_path()
    started = time.time()
    if session is None and freshness:  # freshness and build share one dbt process
        session = start_build(warehouse, full_refresh, changed_since, freshness, with_tests, unit_tests)
    if target() == "duckdb":  # a build that fails half-way leaves marts the recorded fingerprint does not describe
        build_state.forget(warehouse)
    try:
        if session is not None:
            session.run()
        else:
            run_dbt("build", warehouse, *build_args(with_tests, full_refresh, unit_tests),
                    changed_since=None if full_refresh else changed_since)
    finally:
        if freshness:
            print(f"    {record_freshness(warehouse, run_id, since=started)} sources measured")
        record_dbt_results(warehouse, run_id, since=started)


def start_build(warehouse: Path | None = None, full_refresh: bool = False, changed_since: str | None = None,
                freshness: bool = False, with_tests: bool = True, unit_tests: bool = False) -> DbtSession:
    """The dbt process of a later `build(..., session=...)` with these arguments, started now (DbtSession)."""
    return DbtSession("build", warehouse, *build_args(with_tests, full_refresh, unit_tests),
                      changed_since=None if full_refresh else changed_since,
                      before=["source freshness"] if freshness else [])


def build_fingerprint_arguments() -> list[str]:
    """What a build depends on besides the raw data and the project's files: the engine and the vars
    `dbt_args` passes (not the paths: a build made in another target folder is the same build)."""
    return [target(), "demo_seeds" if demo_seeds() else ""]


def source_freshness(warehouse: Path | None = None, run_id: str | None = None) -> int:
    """`dbt source freshness`: how long ago each raw table and the last load were loaded, against the sources'
    thresholds (vars). Stored in data_quality_runs (suite `freshness`) and shown on the data-quality page;
    stale data is reported, never a reason to keep an older copy (it would be staler still). Returns the rows.
    (`amokpi run` measures it in its build's dbt process: build(freshness=True).)"""
    warehouse = warehouse or warehouse_path()
    started = time.time()
    try:
        run_dbt("source freshness", warehouse)
    except StepFailed:
        pass  # a stale source makes dbt exit 1; the results say which, and dbt's own errors land there too
    return record_freshness(warehouse, run_id, since=started)


def record_freshness(warehouse: Path, run_id: str | None, since: float) -> int:
    from expectations import results

    return _store(warehouse, run_id, results.freshness_rows(dbt_target_dir(), since=since), "freshness")


def record_dbt_results(warehouse: Path, run_id: str | None, since: float | None = None) -> int:
    from expectations import results

    if target() != "duckdb":  # the results history is a table of the DuckDB warehouse (expectations/results.py)
        return 0
    return _store(warehouse, run_id, results.dbt_rows(dbt_target_dir(), since=since), "dbt")


def _store(warehouse: Path, run_id: str | None, rows: list, what: str) -> int:
    """Write the rows under the run; never hide the step's own outcome behind a bookkeeping error."""
    from expectations import results

    try:
        return results.write(warehouse, run_id or results.new_run_id(), rows)
    except duckdb.Error as exc:
        print(f"warning: could not store {what} results in the warehouse: {exc}", file=sys.stderr)
        return 0


def check(warehouse: Path | None = None, run_id: str | None = None) -> ValidationReport:
    """Run the GX suites (the raw layer), store every result, print the summary; never raises."""
    from expectations import results
    from expectations.runner import run_suites

    warehouse = warehouse or warehouse_path()
    report = run_suites(warehouse)
    print(report.summary())
    if Path(warehouse).exists():
        results.write(warehouse, run_id or results.new_run_id(), results.gx_rows(report))
    return report


def validate(warehouse: Path | None = None, run_id: str | None = None) -> None:
    """The GX suites; results stored and Data Docs written; StepFailed on any error-severity failure."""
    from expectations.docs import build_docs
    from expectations.results import new_run_id

    warehouse = warehouse or warehouse_path()
    run_id = run_id or new_run_id()
    report = check(warehouse, run_id)
    if Path(warehouse).exists():
        print(f"    data docs: {build_docs(warehouse, report.suites, run_id)}")
    if report.warnings:
        print("warnings:\n" + "\n".join(f.line() for f in report.warnings))
    if not report.success:
        raise StepFailed("validation failed:\n" + report.failures_text())


class QualityGate:
    """One checked run: GX raw -> dbt source freshness and build (models and their tests) -> publish only if no
    check of severity error failed, GX's or dbt's."""

    def __init__(self, warehouse: Path | None = None, run_id: str | None = None) -> None:
        from expectations.results import new_run_id

        self.warehouse = warehouse or warehouse_path()
        self.run_id = run_id or new_run_id()
        self.reports: list[ValidationReport] = []
        self.build_error: StepFailed | None = None
        self.state: build_state.BuildState | None = None
        self.last: build_state.BuildState | None = None
        self.session: DbtSession | None = None
        self.session_plan: tuple[bool, bool] | None = None

    def unchanged(self) -> bool:
        """True when the raw data, the dbt project, its arguments and the versions are those of the last build
        that passed and was published, and its serving copy is in place: building again would make the same marts.
        Remembers what it measured, so build() knows what changed and publish() can record it."""
        from amokpi.settings import serving_path

        self.state = build_state.measure(self.warehouse, build_fingerprint_arguments())
        self.last = build_state.recorded(self.warehouse)
        return (self.last is not None and self.last.fingerprint == self.state.fingerprint
                and serving_path(self.warehouse).exists() and report_path(self.warehouse).exists())

    def build_plan(self, full_refresh: bool = False) -> tuple[bool, str | None]:
        """(full refresh, changed since load id): incremental on the loads since the last build when only fact
        tables changed since it, else from scratch (see build_state.BuildState.changed_since)."""
        if full_refresh or self.state is None or self.last is None:
            return True, None
        since = self.state.changed_since(self.last)
        return since is None, since

    def validate_raw(self) -> ValidationReport:
        report = check(self.warehouse, self.run_id)
        self.reports.append(report)
        return report

    def start_build(self, full_refresh: bool = False, freshness: bool = False) -> DbtSession:
        """Start the build's dbt process now (it parses, touching nothing), for build() to run later; the caller
        abandons it if it never gets there (DbtSession.abandon). Needs unchanged() first, for the plan."""
        refresh, since = self.build_plan(full_refresh)
        self.session = start_build(self.warehouse, full_refresh=refresh, changed_since=since, freshness=freshness)
        self.session_plan = (full_refresh, freshness)
        return self.session

    def build(self, full_refresh: bool = False, freshness: bool = False) -> None:
        """dbt build even when raw checks failed: the quarantine mart lists the records that broke a rule.
        `freshness`: dbt source freshness first, in the same dbt process, recorded with the run; it never stops
        publishing (see source_freshness). Runs the dbt process start_build started, if it was for these."""
        refresh, since = self.build_plan(full_refresh)
        print(f"    incremental: what loads after {since} touched" if since else
              "    from scratch (--full-refresh): " + ("asked for" if full_refresh else
                                                       "no earlier build, or other code, seeds, vars or "
                                                       "reference data"), flush=True)
        session, self.session = self.session, None
        if session is not None and self.session_plan != (full_refresh, freshness):
            session.abandon()  # started for another build than this one
            session = None
        try:
            build(self.warehouse, self.run_id, full_refresh=refresh, changed_since=since, freshness=freshness,
                  session=session)
        except StepFailed as exc:
            self.build_error = exc
            self._docs()
            raise StepFailed(f"{exc}\n{self.report_text()}\nnot published: the report keeps the last good data") \
                from exc

    @property
    def errors(self) -> list:
        return [f for r in self.reports for f in r.errors]

    def report_text(self) -> str:
        from expectations.results import run_text

        return run_text(self.warehouse, self.run_id)

    def _docs(self) -> Path | None:
        from expectations.docs import build_docs

        suites = [s for r in self.reports for s in r.suites]
        return build_docs(self.warehouse, suites, self.run_id) if suites else None

    def publish(self) -> Path:
        """Swap in the serving copy, or raise StepFailed (and leave the old copy) if an error-severity check failed."""
        docs = self._docs()
        text = self.report_text()
        print(text)
        if docs:
            print(f"    data docs: {docs}")
        if self.build_error is not None or self.errors:
            raise StepFailed(f"data quality errors in run {self.run_id}; not published: "
                             f"the report keeps the last good data\n{text}")
        published = publish(self.warehouse)
        if self.state is not None:  # measured before this build, which read exactly that raw data
            build_state.record(self.warehouse, self.state)
        return published


def republish(warehouse: Path | None = None) -> Path:
    """`amokpi publish`: publish what an analyst's own `dbt build` made (after editing a seed, say) through
    the same gate as `amokpi run`: GX on the raw tables, then that build's results (dbt's
    target/run_results.json) recorded under this run; a failed model or error-severity test refuses."""
    import json

    from expectations.results import dbt_rows
    from expectations.results import write as write_results

    gate = QualityGate(warehouse)
    build_state.forget(gate.warehouse)  # an analyst's own build (other vars, say): the next run builds again
    results = dbt_target_dir() / "run_results.json"
    if not results.exists():
        raise StepFailed(f"no dbt results at {results}: run `dbt build` (or `amokpi build`) first")
    command = (json.loads(results.read_text()).get("args") or {}).get("which")
    if command != "build":
        raise StepFailed(f"the last dbt command in {results.parent} was `dbt {command}`, not `dbt build`: "
                         "build first, so the marts and their tests are the ones published")
    gate.validate_raw()
    rows = dbt_rows(dbt_target_dir())
    write_results(gate.warehouse, gate.run_id, rows)
    failed = [r for r in rows if r.status == "fail" and r.severity == "error"]
    if failed:
        gate.build_error = StepFailed(f"the last dbt build failed: {', '.join(r.check_name for r in failed[:5])}")
    return gate.publish()


def publish(warehouse: Path | None = None) -> Path:
    """Publish the marts-only BI serving copy and the report's own copy (ingestion/pipeline/publish.py), each
    swapped in atomically; return the serving copy's path. StepFailed when there is nothing to publish."""
    from ingestion.pipeline import publish as publishing

    try:
        return publishing.publish(warehouse)
    except publishing.PublishError as exc:
        raise StepFailed(str(exc)) from exc
