"""What the last successful build was made from, so `amokpi run` can skip dbt when nothing changed.

A fingerprint of everything a build's output depends on: the raw tables' contents (row count and an
order-independent hash of every row, dlt's own columns left out: a no-change ingest re-writes the
boundary records and the reference tables under a new load id, with the same content), the dbt project's
files (models, macros, seeds, dbt tests, dbt_project.yml, profiles.yml), the dbt arguments (vars such as
demo_seeds) and the versions of amokpi, dbt and DuckDB. It is stored in the warehouse itself (schema
`amokpi_state`) after a build that passed and was published, so a copied or restored warehouse carries its
own; a failed run never records one, so the next run builds again. DuckDB only: on PostgreSQL every run builds.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from amokpi.settings import PROJECT_ROOT, RAW_DATASET

STATE_SCHEMA = "amokpi_state"
STATE_TABLE = f"{STATE_SCHEMA}.build_fingerprint"

# what dbt reads besides the warehouse (dbt_project.yml's paths)
PROJECT_PATHS = ("dbt_project.yml", "dbt_project/profiles.yml", "models", "dbt_project/macros", "dbt_project/seeds",
                 "tests/dbt", "dbt_project/snapshots", "dbt_project/analyses")
VERSIONED = ("amokpi", "dbt-core", "dbt-duckdb", "duckdb")


def project_digest(root: Path = PROJECT_ROOT) -> str:
    """sha256 over the path and bytes of every file dbt reads, in a fixed order."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for name in PROJECT_PATHS:
        path = root / name
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for package in VERSIONED:
        try:
            digest.update(f"{package}=={importlib.metadata.version(package)}\0".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{package} missing\0".encode())
    return digest.hexdigest()


def table_digests(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Each raw table's row count and the sum of its rows' hashes (dlt's columns excluded)."""
    tables = [name for (name,) in con.execute(
        "select table_name from information_schema.tables where table_schema = ? and table_name not like '\\_dlt%' "
        "escape '\\' order by table_name", [RAW_DATASET]).fetchall()]
    digests = {}
    for table in tables:
        columns = [name for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "and column_name not like '\\_dlt%' escape '\\' order by column_name", [RAW_DATASET, table]).fetchall()]
        selected = ", ".join(f'"{c}"' for c in columns)
        count, total = con.execute(
            f'select count(*), sum(hash(row_data)) from (select {selected} from "{RAW_DATASET}"."{table}") as row_data'
        ).fetchone()
        digests[table] = (int(count), hashlib.sha256(f"{','.join(columns)}:{total}".encode()).hexdigest())
    return digests


def raw_digest(con: duckdb.DuckDBPyConnection) -> str:
    return hashlib.sha256(json.dumps(table_digests(con), sort_keys=True).encode()).hexdigest()


# raw tables a build only reads rows of; any other (users, pipelines, statuses, account, custom fields, loss
# reasons, task types) is reference data every model may join to: a change there rebuilds from scratch
FACT_TABLES = frozenset({"leads", "deleted_leads", "contacts", "companies", "notes", "events", "tasks", "quarantine"})


@dataclass(frozen=True)
class BuildState:
    """What a build made now would be made from."""

    tables: dict[str, tuple[int, str]]
    project: str
    arguments: str
    load_ids: tuple[str, ...] = ()  # the completed dlt loads the raw tables hold

    @property
    def newest_load_id(self) -> str | None:
        """The newest completed load: the rows of later loads are what the next build has to add."""
        return max(self.load_ids, default=None)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps([self.tables, self.project, self.arguments], sort_keys=True).encode()
                              ).hexdigest()

    def to_json(self) -> str:
        return json.dumps({"tables": self.tables, "project": self.project, "arguments": self.arguments,
                           "load_ids": list(self.load_ids)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BuildState:
        data = json.loads(text)
        return cls({k: (int(v[0]), str(v[1])) for k, v in data["tables"].items()}, data["project"],
                   data["arguments"], tuple(data["load_ids"]))

    def changed_since(self, last: BuildState) -> str | None:
        """The load id after which the raw rows a build must add arrived, when only fact tables gained or
        changed rows since `last` (the incremental models then recompute what those rows touch); None when
        a build must start from scratch: other code, seeds or vars, changed reference data, or a fact table
        with fewer rows than before (raw tables reloaded with --full-refresh: merged rows never vanish)."""
        since = last.newest_load_id
        if not re.fullmatch(r"[0-9.]+", since or ""):
            return None
        if (self.project, self.arguments) != (last.project, last.arguments):
            return None
        if any(load <= since for load in set(self.load_ids) - set(last.load_ids)):
            return None  # a load id from a clock set back: "later than" would miss its rows
        for table in set(self.tables) | set(last.tables):
            now, before = self.tables.get(table), last.tables.get(table)
            if now == before:
                continue
            if table not in FACT_TABLES or now is None or before is None or now[0] < before[0]:
                return None
        return since


def measure(warehouse: Path, dbt_arguments: list[str]) -> BuildState:
    """The state of a build made now from this warehouse's raw data with these dbt arguments."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = table_digests(con)
        has_loads = con.execute("select count(*) from information_schema.tables where table_schema = ? "
                                "and table_name = '_dlt_loads'", [RAW_DATASET]).fetchone()[0]
        loads = [load for (load,) in con.execute(
            f'select load_id from "{RAW_DATASET}"._dlt_loads where status = 0 order by load_id').fetchall()
                 ] if has_loads else []
    arguments = hashlib.sha256("\0".join(dbt_arguments).encode()).hexdigest()
    return BuildState(tables, project_digest(), arguments, tuple(loads))


def recorded(warehouse: Path) -> BuildState | None:
    """The state of the last successful, published build, if the warehouse holds one."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute("select count(*) from information_schema.tables where table_schema = ? "
                            "and table_name = 'build_fingerprint'", [STATE_SCHEMA]).fetchone()
        if not found or not found[0]:
            return None
        try:
            row = con.execute(f"select state from {STATE_TABLE}").fetchone()
            return BuildState.from_json(row[0]) if row else None
        except (duckdb.Error, ValueError, KeyError, TypeError):  # written by another version: build from scratch
            return None


def record(warehouse: Path, state: BuildState) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"create schema if not exists {STATE_SCHEMA}")
        con.execute(f"create or replace table {STATE_TABLE} (fingerprint varchar not null, state varchar not null)")
        con.execute(f"insert into {STATE_TABLE} values (?, ?)", [state.fingerprint, state.to_json()])


def forget(warehouse: Path) -> None:
    """Drop the record (before a build: a build that then fails leaves no claim that the marts match the raw)."""
    if not warehouse.exists():
        return
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"drop table if exists {STATE_TABLE}")
