"""What keeps the dbt project buildable on PostgreSQL as well as DuckDB, checked on the files (no database):
the mistakes that once broke the PostgreSQL build, each of which DuckDB accepts silently."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from amokpi.settings import PROJECT_ROOT

POSTGRES_MAX_IDENTIFIER = 63  # longer names are cut (relations) or refused (dbt's unit-test relations)
# DuckDB-only: `double` is no PostgreSQL type, and `float` is 4 bytes in DuckDB but 8 in PostgreSQL
NOT_PORTABLE_TYPES = {"double", "float"}
# DuckDB-only functions: behind adapter.dispatch macros in dbt_project/macros/ (json.sql, time.sql)
DUCKDB_ONLY_SQL = re.compile(r"\b(json_extract_string|json_extract|epoch|list_value|arg_max|arg_min)\s*\(", re.I)


def yaml_files() -> list[Path]:
    return sorted([*(PROJECT_ROOT / "models").rglob("*.yml"), *(PROJECT_ROOT / "dbt_project" / "seeds").glob("*.yml")])


def test_unit_test_names_fit_postgres_identifiers() -> None:
    names = [test["name"] for path in yaml_files() for test in (yaml.safe_load(path.read_text()) or {}).get(
        "unit_tests", [])]
    assert len(names) >= 15
    assert [n for n in names if len(n) > POSTGRES_MAX_IDENTIFIER] == []


def test_contract_and_seed_types_are_portable() -> None:
    found = []
    for path in yaml_files():
        document = yaml.safe_load(path.read_text()) or {}
        for node in document.get("models", []):
            found += [(path.name, c["name"], c["data_type"]) for c in node.get("columns", []) if "data_type" in c]
        for seed in document.get("seeds", []):
            found += [(path.name, column, str(kind)) for column, kind in
                      ((seed.get("config") or {}).get("column_types") or {}).items()]
    assert len(found) > 300  # every mart column is typed
    assert [f for f in found if f[2].strip().lower() in NOT_PORTABLE_TYPES] == []


def test_models_call_no_duckdb_only_function() -> None:
    sql = [*(PROJECT_ROOT / "models").rglob("*.sql"), *(PROJECT_ROOT / "tests" / "dbt").rglob("*.sql")]
    assert len(sql) > 80
    offenders = {p.relative_to(PROJECT_ROOT).as_posix(): DUCKDB_ONLY_SQL.findall(p.read_text()) for p in sql}
    assert {p: f for p, f in offenders.items() if f} == {}
