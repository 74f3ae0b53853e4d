"""Publish the warehouse's marts as two read-only copies built in one pass (see amokpi/settings.py).

- The BI serving copy (`serving_path()`), for BI users: schema `marts` (every table and view of the
  warehouse's `marts`, table and column comments kept; a view that reads only marts stays a view, computed
  when read, such as mart_manager_kpi_ranges' every range of months; any other view is materialised) and
  `meta.publication` (when it was published, when dlt last loaded successfully). Nothing from
  raw_amocrm, staging or intermediate, and no mart column that holds raw records (`EXCLUDED_COLUMNS`).
- The report's copy (`report_path()`): the same bytes under a name BI users are not given, so a BI
  user holding the serving copy open read-write (DuckDB's file lock) never blocks the report.

Each file is written under a temporary name in its target's directory, fsynced, given read-only
permission bits, renamed over its target (os.replace) and the directory fsynced: a reader opens the old
file or the new one, never a part of one, the swap survives a crash, and a reader that still holds the
old file keeps reading it undisturbed (even read-write: its lock is on the old file, not the new one).
A failed publish removes its temporary files and leaves both copies as they were.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import duckdb

from amokpi.files import fsync_directory, fsync_file
from amokpi.settings import RAW_DATASET, report_path, serving_path, warehouse_path

SCHEMA = "marts"
META_SCHEMA = "meta"
# Mart columns that carry raw records verbatim, personal data included (a quarantined contact's
# payload holds its phones and e-mails): they stay in the warehouse for whoever inspects quarantine.
EXCLUDED_COLUMNS: dict[str, frozenset[str]] = {"mart_quarantine": frozenset({"payload"})}
READ_ONLY = 0o444
_TARGET = "amokpi_publish_target"  # the catalog name of the copy being built


class PublishError(RuntimeError):
    """Nothing fit to publish (no warehouse, no marts); both copies are left as they were."""


def publish(warehouse: Path | None = None) -> Path:
    """Write both copies from `warehouse`; return the BI serving copy's path."""
    warehouse = warehouse or warehouse_path()
    if not warehouse.is_file():
        raise PublishError(f"no warehouse at {warehouse}: nothing to publish (run `amokpi run`)")
    serving, report = serving_path(warehouse), report_path(warehouse)
    if warehouse.resolve() in (serving.resolve(), report.resolve()):
        raise PublishError(f"AMOKPI_SERVING / AMOKPI_REPORT name the warehouse itself ({warehouse}): not publishing")
    serving_tmp, report_tmp = _temporary(serving), _temporary(report)
    try:
        build_serving_copy(warehouse, serving_tmp)
        shutil.copyfile(serving_tmp, report_tmp)
        for tmp in (serving_tmp, report_tmp):
            os.chmod(tmp, READ_ONLY)
            fsync_file(tmp)
        # the report's copy first: the report never shows older data than BI users see
        for tmp, target in ((report_tmp, report), (serving_tmp, serving)):
            # A WAL beside the target belongs to the file being replaced (a BI user opened it read-write
            # and wrote); left there, the next reader would replay it onto the new copy.
            _wal(target).unlink(missing_ok=True)
            os.replace(tmp, target)
            fsync_directory(target.parent)
    finally:
        for leftover in (serving_tmp, _wal(serving_tmp), report_tmp):
            leftover.unlink(missing_ok=True)
    return serving


def build_serving_copy(warehouse: Path, target: Path) -> None:
    """Create `target` (a new DuckDB file) holding the marts of `warehouse` and `meta.publication`."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach ? as {_TARGET}", [str(target)])
        con.execute(f"create schema {_TARGET}.{SCHEMA}")
        tables = con.execute(
            "select table_name, comment from duckdb_tables() where database_name = current_database()"
            " and schema_name = ? order by 1",
            [SCHEMA],
        ).fetchall()
        views = con.execute(
            "select view_name, comment, sql from duckdb_views() where database_name = current_database()"
            " and schema_name = ? and not internal order by 1",
            [SCHEMA],
        ).fetchall()
        if not tables and not views:
            raise PublishError(f"{warehouse} has no schema {SCHEMA!r}: nothing to publish (run `amokpi build`)")
        for name, comment in tables:
            _copy(con, name, comment)
        for name, comment, sql in views:
            if not _recreate_view(con, name, comment, sql):
                _copy(con, name, comment)
        _publication(con)
        con.execute(f"checkpoint {_TARGET}")
        con.execute(f"detach {_TARGET}")


def _copy(con: duckdb.DuckDBPyConnection, name: str, comment: str | None) -> None:
    excluded = EXCLUDED_COLUMNS.get(name, frozenset())
    columns = [
        (column, column_comment)
        for column, column_comment in con.execute(
            "select column_name, comment from duckdb_columns() where database_name = current_database()"
            " and schema_name = ? and table_name = ? order by column_index",
            [SCHEMA, name],
        ).fetchall()
        if column not in excluded
    ]
    source, target = f"{SCHEMA}.{_ident(name)}", f"{_TARGET}.{SCHEMA}.{_ident(name)}"
    con.execute(f"create table {target} as select {', '.join(_ident(c) for c, _ in columns)} from {source}")
    if comment:
        con.execute(f"comment on table {target} is {_literal(comment)}")
    for column, column_comment in columns:
        if column_comment:
            con.execute(f"comment on column {target}.{_ident(column)} is {_literal(column_comment)}")


def _recreate_view(con: duckdb.DuckDBPyConnection, name: str, comment: str | None, sql: str) -> bool:
    """Create the view `name` in the copy from its own SQL when everything it reads is in the copy (DuckDB
    binds a view as it is created, so a view over raw, staging or intermediate fails and is materialised
    instead). DuckDB keeps a view's SQL free of catalog names, so it reads the copy's tables under any file
    name. False when the view cannot stand in the copy."""
    if name in EXCLUDED_COLUMNS:
        return False
    home = con.execute("select current_database()").fetchone()[0]
    con.execute(f"use {_TARGET}")
    try:
        con.execute(sql)
    except duckdb.CatalogException:
        return False
    finally:
        con.execute(f"use {_ident(home)}")
    target = f"{_TARGET}.{SCHEMA}.{_ident(name)}"
    if comment:
        con.execute(f"comment on view {target} is {_literal(comment)}")
    for column, column_comment in con.execute(
        "select column_name, comment from duckdb_columns() where database_name = current_database()"
        " and schema_name = ? and table_name = ? and comment is not null",
        [SCHEMA, name],
    ).fetchall():
        con.execute(f"comment on column {target}.{_ident(column)} is {_literal(column_comment)}")
    return True


def _publication(con: duckdb.DuckDBPyConnection) -> None:
    """`meta.publication`: one row saying when this copy was published and when dlt last loaded."""
    has_loads = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database()"
        " and schema_name = ? and table_name = '_dlt_loads'",
        [RAW_DATASET],
    ).fetchone()[0]
    last_load = (f"(select max(inserted_at) from {_ident(RAW_DATASET)}._dlt_loads where status = 0)"
                 if has_loads else "null")
    table = f"{_TARGET}.{META_SCHEMA}.publication"
    con.execute(f"create schema {_TARGET}.{META_SCHEMA}")
    con.execute(f"create table {table} as select now()::timestamptz as published_at,"
                f" {last_load}::timestamptz as last_loaded_at")
    con.execute(f"comment on table {table} is 'One row: when this copy was published, when its data was loaded.'")
    con.execute(f"comment on column {table}.published_at is 'When this copy was published.'")
    con.execute(f"comment on column {table}.last_loaded_at is "
                f"'When the last successful load from amoCRM finished; null if none is recorded.'")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _temporary(target: Path) -> Path:
    """A unique hidden name beside `target`, so the final rename stays within one file system."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")
