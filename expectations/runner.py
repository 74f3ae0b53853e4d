"""Run the Great Expectations suites in expectations/suites/ against the DuckDB warehouse.

GX validates through its SQL datasource (SQLAlchemy + duckdb-engine) in an ephemeral context: every
expectation compiles to SQL that DuckDB runs where the data is (counts, a few sampled offending rows),
so memory does not grow with the tables. GX's SQL engine ends each query's SQLAlchemy connection before
it fetches the rows, which with duckdb-engine rolls back and discards the result (GX issue 11579); the
connections GX gets are therefore cursors of one read-only DuckDB connection that take no part in
transactions (`_ReadOnlyCursor`): a reader has nothing to commit or roll back.

GX owns the raw layer: the shape and volume of what was loaded, checked before dbt runs (freshness is dbt's source
freshness, which the quality gate runs and records beside these results).
Every invariant of the models (keys, not-nulls, ranges, grains) is a dbt test on the model, so it is
checked once, by `dbt build`; a suite file over any other schema is not run here.

A suite file names its `table` ("schema.table", in raw_amocrm) and may add:
- `query`: SQL that GX validates instead of the table (derived columns, daily counts);
- `parameters`: values that expectations use as `{"$PARAMETER": name}`, computed at validation time:
  `{"values": sql}` (a set: the first column of every row), `{"value": sql}` (one scalar) or
  `{"previous_run_rows": fraction}` (that fraction of the row count this suite saw in the last run
  without errors, read from marts.data_quality_runs; 0 when there is none).

A `values` set stays in DuckDB: it can be as large as a table (every card id), and GX would copy it into
every metric it computes and spell it out in every SQL statement. `expect_column_values_to_be_in_set` over
such a set is handed to GX as `expect_column_values_to_not_be_in_set` over the column's values that are
missing from the set (an anti-join in DuckDB: none when the data is good), which fails the same rows, so
counts, samples and messages are those of the rule as written; Data Docs show the rule GX evaluated.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

SUITES_DIR = Path(__file__).parent / "suites"
SEVERITIES = ("error", "warn")
_MAX_SAMPLES = 5
_COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list")


class SuiteError(ValueError):
    """A suite file is malformed; suites are code, so this fails loudly instead of validating less."""


RAW_SCHEMA = "raw_amocrm"
HISTORY_TABLE = "marts.data_quality_runs"
DUCKDB_MEMORY_LIMIT = "400MB"  # DuckDB's share of validate's memory (GX itself takes ~0.4 GB)


@dataclass(frozen=True)
class Suite:
    name: str
    table: str  # "schema.table"
    expectations: list[dict[str, Any]]  # GX JSON form: {"type", "kwargs", "meta": {"severity"}}
    query: str | None = None
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def layer(self) -> str:
        return "raw" if self.table.split(".")[0] == RAW_SCHEMA else "marts"


@dataclass(frozen=True)
class ValueSet:
    """A `values` parameter: the first column of `sql`'s rows (`size` of them), left in the warehouse."""

    sql: str
    size: int


@dataclass(frozen=True)
class Check:
    """One expectation's outcome, passed or not: a row of marts.data_quality_runs."""

    suite: str
    table: str
    expectation: str
    column: str | None
    severity: str
    status: str  # pass | warn | fail
    failing_rows: int | None
    rows: int | None
    message: str

    @property
    def name(self) -> str:
        return f"{self.suite}.{self.expectation}" + (f"({self.column})" if self.column else "")


@dataclass(frozen=True)
class Failure:
    suite: str
    table: str
    severity: str
    expectation: str  # GX expectation type, or "table_exists"
    column: str | None
    observed: str
    failing_rows: int | None = None

    def line(self) -> str:
        column = f" [{self.column}]" if self.column else ""
        where = f"{self.suite} ({self.table})"
        return f"{self.severity.upper()} {where} {self.expectation}{column}: {self.observed}"


@dataclass
class SuiteResult:
    name: str
    table: str
    rows: int | None = None  # None when the table could not be read
    evaluated: int = 0
    passed: int = 0
    failures: list[Failure] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    gx_result: Any = None  # the ExpectationSuiteValidationResult, for Data Docs

    def line(self) -> str:
        if self.rows is None:  # table missing: the single failure says why
            return f"{self.name}: {self.failures[0].observed}"
        text = f"{self.name}: {self.passed}/{self.evaluated} expectations passed ({self.rows} rows)"
        errors = [f for f in self.failures if f.severity == "error"]
        warns = [f for f in self.failures if f.severity == "warn"]
        if errors:
            text += f"; {len(errors)} error{'s' if len(errors) != 1 else ''}"
        if warns:
            text += "; warnings: " + ", ".join(
                f"{f.expectation}({f.column})" if f.column else f.expectation for f in warns
            )
        return text


@dataclass
class ValidationReport:
    suites: list[SuiteResult]

    @property
    def failures(self) -> list[Failure]:
        return [f for s in self.suites for f in s.failures]

    @property
    def success(self) -> bool:
        return not any(f.severity == "error" for f in self.failures)

    @property
    def errors(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == "error"]

    @property
    def warnings(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == "warn"]

    @property
    def checks(self) -> list[Check]:
        return [c for s in self.suites for c in s.checks]

    def summary(self) -> str:
        return "\n".join(s.line() for s in self.suites)

    def failures_text(self) -> str:
        return "\n".join(f.line() for f in self.failures) or "no failures"


def load_suites(directory: Path = SUITES_DIR) -> list[Suite]:
    suites = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text())
        try:
            suite = Suite(name=data["name"], table=data["table"], expectations=list(data["expectations"]),
                          query=data.get("query"), parameters=dict(data.get("parameters") or {}))
        except (KeyError, TypeError) as e:
            raise SuiteError(f"{path.name}: needs name, table and expectations ({e})") from e
        if suite.table.count(".") != 1:
            raise SuiteError(f"{path.name}: table must be 'schema.table', got {suite.table!r}")
        for exp in suite.expectations:
            if exp.get("meta", {}).get("severity") not in SEVERITIES:
                raise SuiteError(f"{path.name}: {exp.get('type')} needs meta.severity in {SEVERITIES}")
        for pname, spec in suite.parameters.items():
            if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in PARAMETER_KINDS:
                raise SuiteError(f"{path.name}: parameter {pname} must be one of {PARAMETER_KINDS}")
        used = _parameter_names(suite.expectations)
        if used - set(suite.parameters):
            raise SuiteError(f"{path.name}: undefined parameters {sorted(used - set(suite.parameters))}")
        suites.append(suite)
    names = [s.name for s in suites]
    if len(set(names)) != len(names):
        raise SuiteError(f"suite names must be unique: {names}")
    return suites


PARAMETER_KINDS = ("values", "value", "previous_run_rows")


def _parameter_names(value: Any) -> set[str]:
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return {value["$PARAMETER"]}
        return set().union(*(_parameter_names(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_parameter_names(v) for v in value)) if value else set()
    return set()


def _substitute(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return params[value["$PARAMETER"]]
        return {k: _substitute(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params) for v in value]
    return value


def run_suites(warehouse: Path, suites_dir: Path = SUITES_DIR) -> ValidationReport:
    """Validate every suite of the raw layer in `suites_dir` against the tables of the `warehouse` DuckDB file."""
    suites = [s for s in load_suites(suites_dir) if s.layer == "raw"]
    if not Path(warehouse).exists():
        return ValidationReport([_missing(s, f"warehouse {warehouse} not found — run `amokpi run` first")
                                 for s in suites])

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # read when GX is imported
    with warnings.catch_warnings():  # GX 1.24 imports the deprecated sre_* modules
        warnings.simplefilter("ignore", DeprecationWarning)
        import great_expectations as gx  # slow import (~2 s): only when validating
        from great_expectations.data_context.types.base import ProgressBarsConfig

    results = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # GX's unique and compound-unique checks are hash aggregates over whole tables: beyond this DuckDB
        # spills them to disk instead of growing with the table
        con.execute(f"set memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no tqdm noise in CLI/CI logs
        datasource = context.data_sources.add_sql(
            "amokpi_warehouse", connection_string="duckdb:///:memory:",  # the dialect; the rows come from `con`
            kwargs={"creator": lambda: _read_only_cursor(con)})
        for suite in suites:
            try:
                params = _parameters(con, suite)
            except duckdb.Error as e:
                results.append(_missing(suite, f"could not compute the suite's parameters: {_first_line(e)}"))
                continue
            try:
                rows: int | None | str = _count_rows(con, suite)
            except duckdb.Error as e:
                rows = f"could not read {suite.table}: {_first_line(e)}"
            readable = isinstance(rows, int)
            gx_suite = gx.ExpectationSuite(name=suite.name, expectations=_build_expectations(
                suite, params, con if readable else None))
            if not readable:
                results.append(_missing(suite, rows or f"table {suite.table} not found — run `amokpi ingest` first"))
                continue
            batch = (datasource.add_query_asset(suite.name, query=_select(suite))
                     .add_batch_definition_whole_table("whole").get_batch())
            outcome = batch.validate(gx_suite, result_format="SUMMARY")
            results.append(_suite_result(suite, gx_suite, outcome, rows=rows, params=params))
    return ValidationReport(results)


def _read_only_cursor(con: duckdb.DuckDBPyConnection) -> Any:
    """A DB-API connection for SQLAlchemy: a cursor of `con` (its own connection to the same open
    database) that ignores BEGIN/COMMIT/ROLLBACK, so a result outlives the SQLAlchemy connection."""
    import duckdb_engine

    class _ReadOnlyCursor(duckdb_engine.ConnectionWrapper):
        def begin(self) -> None:
            pass

        def commit(self) -> None:
            pass

        def rollback(self) -> None:
            pass

    return _ReadOnlyCursor(con.cursor())


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _parameters(con: duckdb.DuckDBPyConnection, suite: Suite) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in suite.parameters.items():
        kind, arg = next(iter(spec.items()))
        if kind == "values":
            values[name] = ValueSet(arg, int(con.execute(f"select count(*) from ({arg})").fetchone()[0]))
        elif kind == "value":
            row = con.execute(arg).fetchone()
            values[name] = None if row is None else _plain(row[0])
        else:  # previous_run_rows
            previous = previous_row_count(con, suite.name)
            values[name] = int(previous * float(arg)) if previous is not None else 0
    return values


def previous_row_count(con: duckdb.DuckDBPyConnection, suite: str) -> int | None:
    """Rows this suite saw in the newest recorded run that had no error (None: no such run)."""
    schema, table = HISTORY_TABLE.split(".")
    if not con.execute("select 1 from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]).fetchall():
        return None
    row = con.execute(f"""
        select rows_checked from {HISTORY_TABLE}
        where tool = 'gx' and suite = ? and rows_checked is not null
          and run_id not in (select run_id from {HISTORY_TABLE} where status = 'fail' and severity = 'error')
        order by checked_at desc limit 1""", [suite]).fetchone()
    return None if row is None else int(row[0])


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _missing(suite: Suite, message: str) -> SuiteResult:
    failure = Failure(suite.name, suite.table, "error", "table_exists", None, message)
    check = Check(suite.name, suite.table, "table_exists", None, "error", "fail", None, None, message)
    return SuiteResult(suite.name, suite.table, failures=[failure], checks=[check])


def _select(suite: Suite) -> str:
    """What GX validates: the suite's query (wrapped: GX wants SELECT first, a query may start with WITH) or its
    table (a query too: GX's table assets over a schema other than the connection's are deprecated)."""
    schema, table = suite.table.split(".")
    return f"select * from ({suite.query})" if suite.query else f'select * from "{schema}"."{table}"'


def _count_rows(con: duckdb.DuckDBPyConnection, suite: Suite) -> int | None:
    """Rows of the suite's table (or of its query), or None if the table is missing."""
    schema, table = suite.table.split(".")
    if not con.execute("select 1 from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]).fetchall():
        return None
    return int(con.execute(f"select count(*) from ({_select(suite)})").fetchone()[0])


def _columns(kwargs: dict[str, Any]) -> list[str]:
    names = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")]
    return [n for n in [*names, *kwargs.get("column_list", [])] if n]


def _build_expectations(suite: Suite, params: dict[str, Any] | None = None,
                        con: duckdb.DuckDBPyConnection | None = None) -> list[Any]:
    # Build each Expectation ourselves: gx.ExpectationSuite(expectations=[dict]) only logs and drops
    # an invalid configuration, which would silently validate less than the file says.
    # `con`: the warehouse, to resolve `values` sets (None: the table cannot be read, build only to check).
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    params = params or {}
    built = []
    for exp in suite.expectations:
        try:
            kind, kwargs = exp["type"], dict(exp.get("kwargs", {}))
            value_set = params.get(_parameter_name(kwargs.get("value_set")))
            if kind == "expect_column_values_to_be_in_set" and isinstance(value_set, ValueSet):
                kind = "expect_column_values_to_not_be_in_set"
                kwargs["value_set"] = _outside(con, suite, kwargs.get("column"), value_set) if con else []
            kwargs = _substitute(kwargs, {k: _materialized(con, params[k]) for k in _parameter_names(kwargs)})
            config = ExpectationConfiguration(kind, kwargs, meta=exp["meta"])
            built.append(config.to_domain_obj())
        except Exception as e:  # GX raises several unrelated types (not found, pydantic, invalid config)
            raise SuiteError(f"suite {suite.name}: invalid expectation {exp.get('type')}: {e}") from e
    return built


def _parameter_name(value: Any) -> str | None:
    return value["$PARAMETER"] if isinstance(value, dict) and set(value) == {"$PARAMETER"} else None


def _outside(con: duckdb.DuckDBPyConnection, suite: Suite, column: Any, value_set: ValueSet) -> list[Any]:
    """The distinct non-null values of `column` in what the suite validates that are not in `value_set`."""
    try:
        rows = con.execute(f"""
            select distinct checked."{column}" from ({_select(suite)}) as checked
            where checked."{column}" is not null
              and not exists (select 1 from ({value_set.sql}) as allowed(value)
                              where allowed.value = checked."{column}")
        """).fetchall()
    except duckdb.Error:  # no such column: GX reports it, as for any other expectation on it
        return []
    return [_plain(r[0]) for r in rows]


def _materialized(con: duckdb.DuckDBPyConnection | None, value: Any) -> Any:
    """A parameter's value for a kwarg GX evaluates itself: a `values` set as a list."""
    if not isinstance(value, ValueSet):
        return value
    return [_plain(r[0]) for r in con.execute(value.sql).fetchall()] if con else []


def _key(config: Any) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return config.type + json.dumps(kwargs, sort_keys=True, default=str)


def _suite_result(suite: Suite, gx_suite: Any, outcome: Any, rows: int,
                  params: dict[str, Any] | None = None) -> SuiteResult:
    # GX may reorder results (errored ones first); map each back to its entry in the suite file,
    # to report in file order and quote the rule as written (GX turns min_value 0 into 0.0).
    position = {_key(e.configuration): i for i, e in enumerate(gx_suite.expectations)}
    indexed = sorted(((position[_key(r.expectation_config)], r) for r in outcome.results), key=lambda p: p[0])
    result = SuiteResult(suite.name, suite.table, rows=rows, evaluated=len(indexed), gx_result=outcome)
    for i, r in indexed:
        spec = suite.expectations[i]
        severity = spec["meta"]["severity"]
        column = ", ".join(_columns(spec.get("kwargs", {}))) or None
        failing = (r.result or {}).get("unexpected_count")
        if r.success:
            result.passed += 1
            result.checks.append(Check(suite.name, suite.table, spec["type"], column, severity, "pass",
                                       failing or 0, rows, spec["meta"].get("why", "")))
            continue
        observed = _observed(spec, r.result or {}, r.exception_info or {}, params)
        result.failures.append(Failure(
            suite=suite.name,
            table=suite.table,
            severity=severity,
            expectation=spec["type"],
            column=column,
            observed=observed,
            failing_rows=failing,
        ))
        result.checks.append(Check(suite.name, suite.table, spec["type"], column, severity,
                                   "fail" if severity == "error" else "warn", failing, rows, observed))
    return result


def _rule_value(value: Any, params: dict[str, Any]) -> str:
    """A kwarg as written in the suite; a parameter as `$name (its value)`, or `$name (N values)` for a set."""
    if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
        name = value["$PARAMETER"]
        got = params.get(name)
        return f"${name} ({got.size} values)" if isinstance(got, ValueSet) else f"${name} ({_fmt(got)})"
    return str(value)


def _observed(spec: dict[str, Any], result: dict[str, Any], exception: dict[str, Any],
              params: dict[str, Any] | None = None) -> str:
    """What GX saw, in one line: the rule, how many rows broke it, and a few offending values."""
    if exception.get("raised_exception"):
        return f"could not evaluate: {exception.get('exception_message')}"
    kwargs = spec.get("kwargs", {})
    columns = _columns(kwargs)
    rule = ", ".join(f"{k}={_rule_value(v, params or {})}" for k, v in kwargs.items() if k not in _COLUMN_KWARGS)
    prefix = f"expected {rule}; " if rule else ""
    if "unexpected_count" not in result:  # aggregate expectations (row count) report one value
        return f"{prefix}observed {_fmt(result.get('observed_value'))}"
    text = f"{prefix}{result['unexpected_count']} of {result.get('element_count')} rows unexpected"
    if spec["type"] == "expect_column_values_to_not_be_null":
        return text  # the offending values are all null
    samples = []
    for item in result.get("partial_unexpected_counts", [])[:_MAX_SAMPLES]:
        value = item["value"]
        if isinstance(value, tuple | list) and len(value) == len(columns) > 1:  # pairs, compound keys
            shown = "(" + ", ".join(f"{c}={_fmt(v)}" for c, v in zip(columns, value, strict=True)) + ")"
        else:
            shown = _fmt(value)
        samples.append(f"{shown} (x{item['count']})" if item["count"] > 1 else shown)
    return text + (f", e.g. {'; '.join(samples)}" if samples else "")


def _fmt(value: Any) -> str:
    """Plain text for a sampled value: numpy scalars as 5 not np.int64(5), midnight timestamps as dates."""
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)
