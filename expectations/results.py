"""Data-quality results in the warehouse: `marts.data_quality_runs`, one row per check per run.

Both tools write here after they run: dbt (its data tests and unit tests, parsed from
run_results.json + manifest.json of the build) and Great Expectations (every expectation of every
suite, passed or not). The table is written by Python, not built by dbt, so a failed build still
leaves its results; the report's data-quality page and the volume checks (row counts of the last
run without errors) read it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from expectations.runner import HISTORY_TABLE, ValidationReport

DDL = f"""
create table if not exists {HISTORY_TABLE} (
    run_id        varchar   not null,  -- one `amokpi run` (or one `amokpi build` / `validate`)
    checked_at    timestamp not null,  -- UTC
    tool          varchar   not null,  -- dbt | gx
    suite         varchar,             -- gx: the suite file; dbt: the resource type (test, unit_test, model)
    check_name    varchar   not null,
    table_name    varchar,             -- schema.table (gx) or the model / source the test is attached to (dbt)
    column_name   varchar,
    severity      varchar   not null,  -- error | warn
    status        varchar   not null,  -- pass | warn | fail
    failing_rows  bigint,
    rows_checked  bigint,              -- gx: rows in the validated frame (the volume checks compare these)
    message       varchar
)"""

COLUMNS = ("run_id", "checked_at", "tool", "suite", "check_name", "table_name", "column_name", "severity",
           "status", "failing_rows", "rows_checked", "message")
# the table's and its columns' comments, as dbt's persist_docs writes them on the marts: SQL clients and BI
# tools reading the serving copy see them (publish.py carries comments over)
TABLE_COMMENT = ("Grain: one row per check per run — every GX expectation on the raw layer and every dbt test, "
                 "unit test and failed model of `amokpi run`, `build` or `validate`, with its outcome.")
COLUMN_COMMENTS = {
    "run_id": "One `amokpi run` (or one `amokpi build` / `validate`).",
    "checked_at": "When the run's results were recorded (UTC).",
    "tool": "gx (Great Expectations, raw layer) or dbt.",
    "suite": "gx: the suite; dbt: the resource type (test, unit_test, model).",
    "check_name": "The expectation (table.expectation(column)) or the dbt node name.",
    "table_name": "schema.table (gx), or the model or source the dbt test is attached to.",
    "column_name": "The column checked, when the check is about one column.",
    "severity": "error (stops publishing) or warn.",
    "status": "pass, warn or fail.",
    "failing_rows": "How many rows broke the check (null when the tool does not say).",
    "rows_checked": "gx: rows in the validated table (the volume checks compare these).",
    "message": "What the tool said, e.g. the failing values or dbt's error.",
}


@dataclass(frozen=True)
class Row:
    tool: str
    suite: str | None
    check_name: str
    table_name: str | None
    column_name: str | None
    severity: str
    status: str
    failing_rows: int | None
    rows_checked: int | None
    message: str


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]


def gx_rows(report: ValidationReport) -> list[Row]:
    return [Row("gx", c.suite, c.name, c.table, c.column, c.severity, c.status, c.failing_rows, c.rows, c.message)
            for c in report.checks]


_DBT_STATUS = {"pass": "pass", "success": "pass", "warn": "warn", "fail": "fail", "error": "fail"}


def dbt_rows(target_dir: Path, since: float | None = None) -> list[Row]:
    """dbt's tests (data and unit) of the last invocation in `target_dir`, and every node that errored.

    `since` (unix seconds): ignore a run_results.json written before then (dbt died before writing one)."""
    results_path, manifest_path = target_dir / "run_results.json", target_dir / "manifest.json"
    if not results_path.exists():
        return []
    if since is not None and results_path.stat().st_mtime < since:
        return []
    results = json.loads(results_path.read_text())
    nodes: dict[str, Any] = {}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {}), **manifest.get("sources", {})}
    rows = []
    for r in results.get("results", []):
        uid = r.get("unique_id", "")
        kind = uid.split(".")[0]
        status = _DBT_STATUS.get(r.get("status", ""))
        if status is None:  # skipped: its upstream failed, which has its own row
            continue
        if kind not in ("test", "unit_test") and status == "pass":
            continue  # models and seeds that built: not checks
        node = nodes.get(uid, {})
        severity = str((node.get("config") or {}).get("severity") or "error").lower()
        rows.append(Row(
            tool="dbt",
            suite=kind,
            check_name=node.get("name") or uid.split(".")[-1],
            table_name=_attached(node, nodes),
            column_name=node.get("column_name"),
            severity="warn" if severity == "warn" else "error",
            status=status,
            failing_rows=r.get("failures"),
            rows_checked=None,
            message=(r.get("message") or "").strip()[:2000],
        ))
    return rows


_FRESHNESS_STATUS = {"pass": "pass", "warn": "warn", "error": "fail", "runtime error": "fail"}


def freshness_rows(target_dir: Path, since: float | None = None) -> list[Row]:
    """dbt source freshness (target_dir/sources.json): one row per source table with a freshness rule, its
    status, and when it was last loaded. `since`: ignore a file written before then (dbt wrote none)."""
    path = target_dir / "sources.json"
    if not path.exists() or (since is not None and path.stat().st_mtime < since):
        return []
    manifest = target_dir / "manifest.json"
    sources = json.loads(manifest.read_text()).get("sources", {}) if manifest.exists() else {}
    rows = []
    for r in json.loads(path.read_text()).get("results", []):
        uid = r.get("unique_id") or "source...?"
        _, _, source, table = uid.split(".", 3)
        node = sources.get(uid, {})
        criteria = r.get("criteria") or {}
        has_error = bool((criteria.get("error_after") or {}).get("count"))
        age = r.get("max_loaded_at_time_ago_in_s")
        if r.get("status") == "runtime error":
            message = (r.get("error") or "freshness could not be computed").strip()[:2000]
        else:
            warn, error = _window(criteria.get("warn_after")), _window(criteria.get("error_after"))
            message = (f"last loaded {r.get('max_loaded_at')} ({float(age) / 3600:.1f} h before the check); "
                       f"warn after {warn}, error after {error}")
        rows.append(Row(tool="dbt", suite="freshness", check_name=f"freshness({source}.{table})",
                        table_name=f"{node.get('schema') or source}.{node.get('identifier') or table}",
                        column_name=None, severity="error" if has_error else "warn",
                        status=_FRESHNESS_STATUS.get(r.get("status", ""), "fail"), failing_rows=None,
                        rows_checked=None, message=message))
    return rows


def _window(rule: dict[str, Any] | None) -> str:
    return f"{rule['count']} {rule.get('period')}(s)" if rule and rule.get("count") else "never"


def _attached(node: dict[str, Any], nodes: dict[str, Any]) -> str | None:
    target = node.get("attached_node") or node.get("model")
    if not target:
        depends = (node.get("depends_on") or {}).get("nodes") or []
        target = depends[0] if depends else None
    if target is None:
        return node.get("relation_name")
    parent = nodes.get(target, {})
    schema, name = parent.get("schema"), parent.get("alias") or parent.get("name")
    if parent.get("resource_type") == "source":
        name = parent.get("identifier") or name
    return f"{schema}.{name}" if schema and name else target.split(".")[-1]


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"  # COMMENT ON takes no bound parameter; the texts are ours


def _comment(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"comment on table {HISTORY_TABLE} is {_quoted(TABLE_COMMENT)}")
    for column, text in COLUMN_COMMENTS.items():
        con.execute(f"comment on column {HISTORY_TABLE}.{column} is {_quoted(text)}")


def write(warehouse: Path, run_id: str, rows: list[Row], checked_at: datetime | None = None) -> int:
    """Append `rows` to marts.data_quality_runs (created if missing); returns how many."""
    if not rows:
        return 0
    checked_at = (checked_at or datetime.now(UTC)).replace(tzinfo=None)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists marts")
        con.execute(DDL)
        _comment(con)
        con.executemany(
            f"insert into {HISTORY_TABLE} ({', '.join(COLUMNS)}) values ({', '.join('?' * len(COLUMNS))})",
            [(run_id, checked_at, r.tool, r.suite, r.check_name, r.table_name, r.column_name, r.severity, r.status,
              r.failing_rows, r.rows_checked, r.message) for r in rows],
        )
    return len(rows)


def run_text(warehouse: Path, run_id: str) -> str:
    """The run's report: counts per tool and status, then every check that did not pass."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = con.execute(f"""select tool, status, count(*) from {HISTORY_TABLE} where run_id = ?
                                 group by all order by 1, 2""", [run_id]).fetchall()
        bad = con.execute(f"""select tool, status, check_name, table_name, failing_rows, message
                              from {HISTORY_TABLE} where run_id = ? and status <> 'pass'
                              order by status = 'warn', tool, check_name""", [run_id]).fetchall()
    lines = [f"data quality run {run_id}: " + ", ".join(f"{tool} {status} {n}" for tool, status, n in counts)]
    for tool, status, check, table, failing, message in bad:
        rows = f" ({failing} rows)" if failing else ""
        lines.append(f"  {status.upper():<4} {tool:<3} {check} on {table}{rows}: {message}")
    return "\n".join(lines)
