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
from pathlib import Path

import duckdb

from amokpi.settings import DBT_PROFILES_DIR, PROJECT_ROOT, RAW_DATASET

STATE_SCHEMA = "amokpi_state"
STATE_TABLE = f"{STATE_SCHEMA}.build_fingerprint"

# what dbt reads besides the warehouse (dbt_project.yml's paths)
PROJECT_PATHS = ("dbt_project.yml", "models", "dbt_project/macros", "dbt_project/seeds", "tests/dbt",
                 "dbt_project/snapshots", "dbt_project/analyses")
VERSIONED = ("amokpi", "dbt-core", "dbt-duckdb", "duckdb")


def project_digest(root: Path = PROJECT_ROOT) -> str:
    """sha256 over the path and bytes of every file dbt reads, in a fixed order."""
    digest = hashlib.sha256()
    files = [DBT_PROFILES_DIR / "profiles.yml"]
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


def raw_digest(con: duckdb.DuckDBPyConnection) -> str:
    """sha256 of each raw table's row count and the sum of its rows' hashes (dlt's columns excluded)."""
    tables = [name for (name,) in con.execute(
        "select table_name from information_schema.tables where table_schema = ? and table_name not like '\\_dlt%' "
        "escape '\\' order by table_name", [RAW_DATASET]).fetchall()]
    digest = hashlib.sha256()
    for table in tables:
        columns = [name for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "and column_name not like '\\_dlt%' escape '\\' order by column_name", [RAW_DATASET, table]).fetchall()]
        selected = ", ".join(f'"{c}"' for c in columns)
        count, total = con.execute(
            f'select count(*), sum(hash(row_data)) from (select {selected} from "{RAW_DATASET}"."{table}") as row_data'
        ).fetchone()
        digest.update(f"{table}:{','.join(columns)}:{count}:{total}\0".encode())
    return digest.hexdigest()


def fingerprint(warehouse: Path, dbt_arguments: list[str]) -> str:
    """The fingerprint of a build made now from this warehouse's raw data with these dbt arguments."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        raw = raw_digest(con)
    arguments = hashlib.sha256("\0".join(dbt_arguments).encode()).hexdigest()
    return hashlib.sha256(f"{raw}\0{project_digest()}\0{arguments}".encode()).hexdigest()


def recorded(warehouse: Path) -> str | None:
    """The fingerprint of the last successful, published build, if the warehouse holds one."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.execute("select count(*) from information_schema.tables where table_schema = ? "
                            "and table_name = 'build_fingerprint'", [STATE_SCHEMA]).fetchone()
        if not found or not found[0]:
            return None
        row = con.execute(f"select fingerprint from {STATE_TABLE}").fetchone()
    return row[0] if row else None


def record(warehouse: Path, value: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"create schema if not exists {STATE_SCHEMA}")
        con.execute(f"create or replace table {STATE_TABLE} (fingerprint varchar not null)")
        con.execute(f"insert into {STATE_TABLE} values (?)", [value])


def forget(warehouse: Path) -> None:
    """Drop the record (before a build: a build that then fails leaves no claim that the marts match the raw)."""
    if not warehouse.exists():
        return
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"drop table if exists {STATE_TABLE}")
