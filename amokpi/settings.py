"""Where things live: the project root (the dbt project), the warehouse and the two published copies.

`amokpi run` publishes the warehouse's marts twice, from one build (ingestion/pipeline/publish.py):

- the BI serving copy, `serving_path()`: the file BI users are given; marts only, read-only permission
  bits, replaced atomically on each publish;
- the report's copy, `report_path()`: the same content under a name BI users are not given, so that a
  BI user holding the serving copy open read-write (DuckDB's file lock) never blocks the report.

The report opens `report_file()`. Environment variables, each naming one file for writer and reader alike:

- `AMOKPI_WAREHOUSE`: the read-write warehouse (default data/warehouse.duckdb);
- `AMOKPI_SERVING`: where publish writes the BI serving copy; when set (and `AMOKPI_REPORT` is not), the
  report reads that file too: an explicit pin, e.g. to show a copy made by hand (the tests do this);
- `AMOKPI_REPORT`: where publish writes the report's copy and what the report reads, whatever
  `AMOKPI_SERVING` says; `amokpi report` should set it, so the report never reads the BI file.

`AMOKPI_TARGET=postgres` (default `duckdb`) puts the raw tables (dlt) and the dbt build in PostgreSQL instead,
at `AMOKPI_PG_HOST`/`_PORT`/`_USER`/`_PASSWORD`/`_DBNAME` (dbt_project/profiles.yml reads the same variables);
the DuckDB warehouse path then only anchors dlt's pipeline state and the run locks.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROFILES_DIR = PROJECT_ROOT / "dbt_project"
STREAMLIT_APP = PROJECT_ROOT / "streamlit_app" / "app.py"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
RAW_DATASET = "raw_amocrm"


def warehouse_path() -> Path:
    """`AMOKPI_WAREHOUSE` (relative paths resolve against the current directory) or data/warehouse.duckdb."""
    value = os.environ.get("AMOKPI_WAREHOUSE")
    return Path(value).resolve() if value else DEFAULT_WAREHOUSE


def serving_path(warehouse: Path | None = None) -> Path:
    """The BI serving copy publish writes (and returns): `AMOKPI_SERVING`, or `<warehouse stem>.serving.duckdb`
    beside the warehouse. Schema `marts` plus `meta.publication`; nothing from raw, staging or intermediate."""
    value = os.environ.get("AMOKPI_SERVING")
    if value:
        return Path(value).resolve()
    warehouse = warehouse or warehouse_path()
    return warehouse.with_name(f"{warehouse.stem}.serving.duckdb")


def report_path(warehouse: Path | None = None) -> Path:
    """The report's private copy publish writes beside the BI one: `AMOKPI_REPORT`, or
    `<warehouse stem>.report.duckdb` beside the warehouse. Same content as the serving copy; not for BI users."""
    value = os.environ.get("AMOKPI_REPORT")
    if value:
        return Path(value).resolve()
    warehouse = warehouse or warehouse_path()
    return warehouse.with_name(f"{warehouse.stem}.report.duckdb")


def demo_seeds() -> bool:
    """`AMOKPI_DEMO_SEEDS` set (1/true/yes): dbt builds load the demo account's plans, spend, costs and hire
    dates (dbt_project/seeds/demo/, dbt var `demo_seeds`) instead of the account's own, empty by default.
    `amokpi demo` and the tests set it; a real account's build never does."""
    return os.environ.get("AMOKPI_DEMO_SEEDS", "").strip().lower() in ("1", "true", "yes")


TARGETS = ("duckdb", "postgres")


def target() -> str:
    """The warehouse engine: `AMOKPI_TARGET` (duckdb or postgres; dbt's profile target of that name)."""
    value = os.environ.get("AMOKPI_TARGET", "").strip().lower() or "duckdb"
    if value not in TARGETS:
        raise ValueError(f"AMOKPI_TARGET={value!r}: expected one of {', '.join(TARGETS)}")
    return value


def postgres_credentials() -> dict[str, str | int]:
    """Where the postgres target lives; the defaults match dbt_project/profiles.yml's (loopback)."""
    env = os.environ.get
    return {"host": env("AMOKPI_PG_HOST", "127.0.0.1"), "port": int(env("AMOKPI_PG_PORT", "5432")),
            "username": env("AMOKPI_PG_USER", "amokpi"), "password": env("AMOKPI_PG_PASSWORD", ""),
            "database": env("AMOKPI_PG_DBNAME", "amokpi")}


def report_file() -> Path:
    """The file the report opens: `AMOKPI_REPORT`; else `AMOKPI_SERVING` (an explicit pin, shared with
    whoever else opens that file); else `report_path()`, the report's own copy beside the warehouse."""
    for name in ("AMOKPI_REPORT", "AMOKPI_SERVING"):
        value = os.environ.get(name)
        if value:
            return Path(value)
    return report_path()
