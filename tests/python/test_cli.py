"""The `amokpi` command line end to end, in real processes: `demo` builds and publishes the demo
warehouse (the run the session's demo_warehouse fixture made), `validate` fails with the failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

AMOKPI = Path(sys.executable).with_name("amokpi")


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_cli_demo_without_serving_builds_checks_and_publishes(demo_warehouse) -> None:
    result = demo_warehouse.cli  # `amokpi demo --no-serve --seed 7 --leads-per-month 60`
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"Demo warehouse ready: {demo_warehouse.warehouse}" in result.stdout
    assert "raw_leads:" in result.stdout  # the validation summary
    assert "dbt build" in result.stdout and f"serving copy: {demo_warehouse.serving}" in result.stdout
    assert demo_warehouse.serving.exists()
    ((managers,),) = query(demo_warehouse.serving,
                           "select count(distinct manager_id) from marts.mart_manager_kpi_monthly")
    assert managers == 10
    # the gate recorded the raw suites (GX) and dbt's tests of that one run
    runs = query(demo_warehouse.serving, """select tool, count(distinct run_id), count(*) filter (where status = 'fail')
                                            from marts.data_quality_runs group by 1 order by 1""")
    assert [(tool, n_runs, failed) for tool, n_runs, failed in runs] == [("dbt", 1, 0), ("gx", 1, 0)]


@pytest.mark.slow  # a faulty account through GX in a process of its own: a heavier check, in `make bench`
def test_cli_validate_exits_nonzero_with_the_failures(demo_warehouse, tmp_path: Path) -> None:
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(demo_warehouse.warehouse.read_bytes())
    with duckdb.connect(str(broken)) as con:
        con.execute("update raw_amocrm.leads set price = -5 where id = (select min(id) from raw_amocrm.leads)")
    result = subprocess.run([str(AMOKPI), "validate"], env={**os.environ, "AMOKPI_WAREHOUSE": str(broken)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "validation failed" in result.stderr and "price" in result.stderr and "-5" in result.stderr


def test_cli_export_writes_every_published_mart_with_a_manifest(demo_warehouse, tmp_path: Path) -> None:
    import json

    env = {k: v for k, v in os.environ.items() if k not in ("AMOKPI_SERVING", "AMOKPI_REPORT")}
    env["AMOKPI_WAREHOUSE"] = str(demo_warehouse.warehouse)
    for fmt in ("parquet", "csv"):
        target = tmp_path / fmt
        done = subprocess.run([str(AMOKPI), "export", "--format", fmt, "--to", str(target)], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        manifest = json.loads((target / "manifest.json").read_text())
        published = {t for (t,) in query(demo_warehouse.serving, "select table_name from information_schema.tables"
                                                                 " where table_schema = 'marts'")}
        assert {t["table"] for t in manifest["tables"]} == {f"marts.{t}" for t in published}
        assert manifest["format"] == fmt and manifest["published_at"]
        for table in manifest["tables"]:
            path = target / table["file"]
            ((rows,),) = query(demo_warehouse.serving, f"select count(*) from {table['table']}")
            reader = "read_parquet" if fmt == "parquet" else "read_csv_auto"
            with duckdb.connect() as con:
                assert con.execute(f"select count(*) from {reader}(?)", [str(path)]).fetchone()[0] == rows == \
                    table["rows"], table["table"]
                names = [d[0] for d in con.execute(f"select * from {reader}(?) limit 0", [str(path)]).description]
            assert names == [c["name"] for c in table["columns"]]
            assert table["description"] and all(c["description"] for c in table["columns"]), table["table"]
        assert not list(target.glob(".*.partial"))
    missing = subprocess.run([str(AMOKPI), "export"], env={**env, "AMOKPI_WAREHOUSE": str(tmp_path / "none.duckdb")},
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1 and "no serving copy" in missing.stderr
