"""`amokpi run` skips what would make the same marts again, and an incremental build equals a full one.

- The build fingerprint (ingestion/pipeline/build_state.py) stays put when a no-change ingest re-writes
  records under a new load id, and moves on any edited, added or deleted raw row, any edited project file
  (a seed, a model) and other vars.
- `amokpi run` on a copy of the demo warehouse, against the same account over HTTP, ingests and then
  skips checks, build and publish, saying so; the published copy is untouched.
- (slow, make bench) the scalable account ingested and built, 5 % of it changed (edits, stage moves, new
  leads, deletions), ingested and built incrementally; a copy rebuilt with --full-refresh holds the same
  rows in every intermediate table and mart.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest
import requests
from conftest import AMOKPI

from ingestion.cli.main import NOTHING_NEW
from ingestion.demo.api import DemoApiServer
from ingestion.pipeline import build_state, runner

# a sum's last bits, not a changed row: 1e-12 of the value (a double holds about 16 digits)
FLOAT_RELATIVE_TOLERANCE = 1e-12


def _raw(path: Path, rows: list[tuple[int, str, str]]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists raw_amocrm")
        con.execute("create or replace table raw_amocrm.leads (id bigint, name varchar, _dlt_load_id varchar, "
                    "_dlt_id varchar)")
        con.executemany("insert into raw_amocrm.leads values (?, ?, ?, ?)", [(*r, f"row{r[0]}") for r in rows])


def _digest(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return build_state.raw_digest(con)


def test_the_raw_digest_moves_with_content_never_with_load_ids(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    _raw(path, [(1, "a", "100"), (2, "b", "100")])
    first = _digest(path)
    _raw(path, [(2, "b", "200"), (1, "a", "300")])  # re-loaded by a later load, in another order
    assert _digest(path) == first
    _raw(path, [(1, "a", "100"), (2, "B", "200")])  # an edit
    assert _digest(path) != first
    _raw(path, [(1, "a", "100")])  # a deletion
    assert _digest(path) != first
    _raw(path, [(1, "a", "100"), (2, "b", "100"), (3, "c", "200")])  # a new lead
    assert _digest(path) != first


def test_the_project_digest_moves_with_a_seed_or_a_model(tmp_path: Path) -> None:
    for name in ("dbt_project.yml", "models/fct.sql", "dbt_project/seeds/plans.csv", "dbt_project/macros/m.sql"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    first = build_state.project_digest(tmp_path)
    assert build_state.project_digest(tmp_path) == first
    for name in ("dbt_project/seeds/plans.csv", "models/fct.sql"):
        (tmp_path / name).write_text("y\n")
        assert build_state.project_digest(tmp_path) != first
        (tmp_path / name).write_text("x\n")
    assert build_state.project_digest(tmp_path) == first
    (tmp_path / "models/new.sql").write_text("x\n")
    assert build_state.project_digest(tmp_path) != first


def test_only_fact_rows_changed_since_the_last_build_means_an_incremental_build() -> None:
    last = build_state.BuildState({"leads": (10, "a"), "users": (3, "u")}, "code", "vars", ("100.5", "200.25"))

    def since(**changes: object) -> str | None:
        tables = {**last.tables, **changes.pop("tables", {})}
        fields = {"project": "code", "arguments": "vars", "load_ids": (*last.load_ids, "300.1"), **changes}
        return build_state.BuildState(tables, **fields).changed_since(last)

    assert since(tables={"leads": (12, "b")}) == "200.25"  # new and edited leads: the loads after 200.25
    assert since(tables={"leads": (10, "c"), "events": (5, "e")}) is None  # a raw table new to it: from scratch
    assert since(tables={"users": (3, "v")}) is None  # reference data: from scratch
    assert since(tables={"leads": (9, "d")}) is None  # fewer rows: the raw tables were reloaded
    assert since(project="other code") is None and since(arguments="other vars") is None
    assert since(load_ids=(*last.load_ids, "150.0")) is None  # a load older than the last one read: a clock set back
    assert build_state.BuildState.from_json(last.to_json()) == last


def test_a_run_that_loads_nothing_new_skips_the_build_and_keeps_the_published_copy(
        demo_warehouse, tmp_path: Path) -> None:
    source = demo_warehouse.warehouse.parent
    copy = tmp_path / "wh"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("*.lock", "*.wal", "export"))
    warehouse = copy / demo_warehouse.warehouse.name
    served = {p: p.stat().st_mtime_ns for p in copy.glob("*.duckdb") if p != warehouse}
    assert len(served) == 2, served  # the serving copy and the report's
    env = {**os.environ, "AMOKPI_WAREHOUSE": str(warehouse), "SOURCES__AMOCRM__REQUESTS_PER_SECOND": "0"}
    for name in ("AMOKPI_SERVING", "AMOKPI_REPORT"):
        env.pop(name, None)
    with duckdb.connect(str(warehouse), read_only=True) as con:  # the account record keeps the address it came from
        (address,) = con.execute("select _base_url from raw_amocrm.account").fetchone()
    # the same account at the same address, so the same records
    with DemoApiServer(demo_warehouse.account, port=urlsplit(address).port) as server:
        env |= {"SOURCES__AMOCRM__BASE_URL": server.base_url, "SOURCES__AMOCRM__ACCESS_TOKEN": server.token}
        run = subprocess.run([AMOKPI, "run"], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "<== ingest done" in run.stdout and "rows into" in run.stdout  # it did read the account
    assert NOTHING_NEW in run.stdout
    assert "dbt build ..." not in run.stdout and "==> publish" not in run.stdout
    assert {p: p.stat().st_mtime_ns for p in served} == served
    # what the next run would see after a record changes: a build
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update raw_amocrm.leads set name = name || ' (renamed)' where id = (select min(id) "
                    "from raw_amocrm.leads)")
    gate = runner.QualityGate(warehouse)
    assert not gate.unchanged()


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = ? "
        "and table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE' order by 1, 2",
        [catalog]).fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in con.execute(
        "select column_name, data_type from information_schema.columns where table_catalog = ? "
        "and table_schema = ? and table_name = ? order by ordinal_position", [catalog, schema, table]).fetchall()]


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=FLOAT_RELATIVE_TOLERANCE, abs_tol=1e-12)
    return a == b


def assert_same_tables(incremental: Path, full: Path) -> int:
    """Every intermediate table and mart holds the same columns and rows in both; returns how many it compared.

    Floating-point values are compared relative to their size (FLOAT_RELATIVE_TOLERANCE): DuckDB sums in
    parallel, so two builds of the same rows may differ in the last bit of a sum (two full builds as well),
    and a fixed number of decimals cannot absorb that (one ulp of 2.4 million is 4.7e-10). Rows are sorted
    on every other column first, so such a bit never changes which rows are paired."""
    with duckdb.connect(":memory:") as con:
        con.execute(f"attach '{incremental}' as inc (read_only)")
        con.execute(f"attach '{full}' as whole (read_only)")
        tables = _tables(con, "inc")
        assert tables == _tables(con, "whole")
        compared = 0
        for schema, table in tables:
            if schema == "marts" and table == "data_quality_runs":
                continue  # each build's own results, written by Python
            columns = _columns(con, "inc", schema, table)
            assert columns == _columns(con, "whole", schema, table), f"{schema}.{table}"
            exact = [f'"{name}"' for name, kind in columns if kind not in ("DOUBLE", "FLOAT")]
            inexact = [f'"{name}"' for name, kind in columns if kind in ("DOUBLE", "FLOAT")]
            order = ", ".join(exact + [f"round({c}, 3)" for c in inexact])
            rows = [con.execute(f'select * from {db}."{schema}"."{table}" order by {order}').fetchall()
                    for db in ("inc", "whole")]
            assert len(rows[0]) == len(rows[1]), f"{schema}.{table}: {len(rows[0])} rows against {len(rows[1])}"
            for ours, theirs in zip(*rows, strict=True):
                assert all(map(_same, ours, theirs)), f"{schema}.{table}: incremental and full builds differ\n" \
                    f"  incremental: {ours}\n  full:        {theirs}"
            compared += 1
    return compared


def test_the_comparison_absorbs_a_last_bit_of_a_sum_and_nothing_more(tmp_path: Path) -> None:
    """CI once failed on 2363636.363636363 against …364, the same sum added in another order."""
    base = 7e6 / 3 + 30303.03  # 2363636.36…
    ulp = math.ulp(base)
    paths = {}
    for name, values in {"a": [base, 1.5], "b": [base + ulp, 1.5], "c": [base * (1 + 1e-9), 1.5],
                         "d": [base, 1.5, 2.0]}.items():
        paths[name] = tmp_path / f"{name}.duckdb"
        with duckdb.connect(str(paths[name])) as con:
            con.execute("create schema marts")
            con.execute("create table marts.sums (week integer, amount double)")
            con.executemany("insert into marts.sums values (?, ?)", list(enumerate(values)))
    assert round(base, 9) != round(base + ulp, 9)  # what the earlier 9-decimal comparison tripped on
    assert assert_same_tables(paths["a"], paths["b"]) == 1
    with pytest.raises(AssertionError, match="marts.sums: incremental and full builds differ"):
        assert_same_tables(paths["a"], paths["c"])
    with pytest.raises(AssertionError, match="2 rows against 3"):
        assert_same_tables(paths["a"], paths["d"])


@pytest.mark.slow
def test_an_incremental_build_after_changes_equals_a_full_rebuild(tmp_path: Path, env) -> None:
    from ingestion.demo.scalable import ScalableAccount

    account = ScalableAccount.generate(leads=400, seed=11)
    warehouse = tmp_path / "inc" / "warehouse.duckdb"
    arguments = runner.build_fingerprint_arguments()
    with DemoApiServer(account) as server:
        env(server, server.token)
        runner.ingest(warehouse, requests_per_second=0)
        runner.build(warehouse, with_tests=False)
        first = build_state.measure(warehouse, arguments)
        answer = requests.post(server.base_url + "/demo/change", json={"percent": 5, "seed": 2}, timeout=30,
                               headers={"Authorization": f"Bearer {server.token}"})
        assert answer.status_code == 200
        assert min(answer.json()[k] for k in ("edited", "moved", "created", "deleted")) >= 1
        runner.ingest(warehouse, requests_per_second=0)
    since = build_state.measure(warehouse, arguments).changed_since(first)
    assert since == first.newest_load_id  # only fact tables changed: `amokpi run` builds incrementally
    full = tmp_path / "full" / "warehouse.duckdb"
    full.parent.mkdir()
    shutil.copyfile(warehouse, full)
    runner.build(warehouse, with_tests=False, changed_since=since)
    compiled = runner.dbt_target_dir() / "compiled/amokpi/models/intermediate/int_calls_deduplicated.sql"
    assert "changed_keys" in compiled.read_text()  # the incremental path ran (only the changed calls recomputed)
    runner.build(full, with_tests=False, full_refresh=True)
    assert assert_same_tables(warehouse, full) >= 30
