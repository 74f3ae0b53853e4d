"""What `publish` hands out: a BI serving copy with the marts and no personal data from the raw layer,
and a report copy of its own, so a BI user holding the serving file open read-write (as the duckdb CLI
does by default) neither takes the report down nor stops the next publish. Real files and processes."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from amokpi import settings
from ingestion.pipeline import runner

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
NON_MART_SCHEMAS = ("raw_amocrm", "raw_amocrm_staging", "staging", "intermediate")

# A BI user's session: the duckdb CLI's default is read-write; this one also writes a scratch table
# (so its WAL sits beside the file), then waits for a line on stdin before it reads once more and exits.
BI_SESSION = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create table main.bi_scratch as select 42 as answer")
print("open", flush=True)
sys.stdin.readline()
print(con.execute("select count(*) from marts.mart_manager_kpi_monthly").fetchone()[0], flush=True)
con.close()
"""


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture(scope="module")
def own_warehouse(demo_warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo warehouse that this module publishes (and locks) as it likes: the shared one's serving
    copy is read by tests on the other xdist worker meanwhile."""
    copy = tmp_path_factory.mktemp("serving_copy") / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse.warehouse, copy)
    return copy


@pytest.fixture()
def defaults(own_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No explicit pins: the report finds its own copy from the warehouse, as `amokpi report` would."""
    monkeypatch.delenv("AMOKPI_SERVING", raising=False)
    monkeypatch.delenv("AMOKPI_REPORT", raising=False)
    monkeypatch.setenv("AMOKPI_WAREHOUSE", str(own_warehouse))


def rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def relations(path: Path) -> set[tuple[str, str]]:
    return set(rows(path, "select table_schema, table_name from information_schema.tables"))


def columns(path: Path) -> set[tuple[str, str, str]]:
    return set(rows(path, "select table_schema, table_name, column_name from information_schema.columns"))


def contact_details(warehouse: Path) -> set[str]:
    """Every phone and e-mail of the raw contacts (and the users' login e-mails), as loaded."""
    found = set()
    for (fields,) in rows(warehouse, "select custom_fields_values from raw_amocrm.contacts"
                                     " where custom_fields_values is not null"):
        for field in json.loads(fields):
            if field.get("field_code") in ("PHONE", "EMAIL"):
                found |= {str(v["value"]) for v in field.get("values") or [] if v.get("value")}
    found |= {e for (e,) in rows(warehouse, "select email from raw_amocrm.users where email is not null")}
    return found


def needles(values: set[str]) -> set[str]:
    """The values and, for phones, their bare digits (a phone stored without `+` or spaces still matches)."""
    digits = {"".join(c for c in v if c.isdigit()) for v in values if "@" not in v}
    return values | {d for d in digits if len(d) >= 7}


def leaks(path: Path, values: set[str], schema: str | None = None) -> list[tuple[str, str, str]]:
    """(table, column, value) for every value found inside any text column (text, JSON, lists, structs, maps,
    blobs; cast to text) of any table in the file (or in its `schema`)."""
    found = []
    with duckdb.connect() as con:
        con.execute("attach ? as published (read_only)", [str(path)])
        con.execute("create table needle as select unnest(?::varchar[]) as v", [sorted(values)])
        for schema_name, table, column in con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() where database_name = 'published'"
            " and regexp_matches(data_type, 'VARCHAR|JSON|STRUCT|MAP|UNION|BLOB|\\[')"
            " and schema_name = coalesce(?, schema_name)", [schema]
        ).fetchall():
            hits = con.execute(
                f'select distinct needle.v from published."{schema_name}"."{table}" as t join needle'
                f' on contains(lower(cast(t."{column}" as varchar)), lower(needle.v))'
            ).fetchall()
            found += [(f"{schema_name}.{table}", column, v) for (v,) in hits]
    return found


def test_the_serving_copy_holds_the_marts_and_nothing_from_the_raw_layer(own_warehouse, defaults) -> None:
    warehouse = own_warehouse
    serving = runner.publish(warehouse)
    assert serving == settings.serving_path(warehouse)

    published = relations(serving)
    assert {schema for schema, _ in published} == {"marts", "meta"}
    marts = {r for r in relations(warehouse) if r[0] == "marts"}
    assert published == marts | {("meta", "publication")}, "every mart (views as tables), plus meta.publication"
    elsewhere = {table for schema, table in relations(warehouse) if schema in NON_MART_SCHEMAS}
    assert elsewhere and not elsewhere & {table for _, table in published}
    # every column is a mart's column: nothing joined in from raw/staging/intermediate
    mart_columns = {c for c in columns(warehouse) if c[0] == "marts"}
    assert columns(serving) - {c for c in columns(serving) if c[0] == "meta"} == \
        mart_columns - {("marts", "mart_quarantine", "payload")}  # raw records verbatim: kept back

    details = contact_details(warehouse)
    assert any("@" in d for d in details) and any(d.startswith("+") for d in details), "the check must bite"
    assert leaks(serving, needles(details)) == []

    ((published_at, last_loaded_at),) = rows(serving, "select published_at, last_loaded_at from meta.publication")
    ((loaded,),) = rows(warehouse, "select max(inserted_at) from raw_amocrm._dlt_loads where status = 0")
    assert last_loaded_at == loaded and published_at >= loaded

    report = settings.report_path(warehouse)
    assert report != serving and report.read_bytes() == serving.read_bytes()
    for path in (serving, report):
        assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_a_quarantined_contact_does_not_reach_the_serving_copy(
    demo_warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mart_quarantine keeps the offending record verbatim (payload): for a contact, its phones."""
    monkeypatch.delenv("AMOKPI_SERVING", raising=False)
    monkeypatch.delenv("AMOKPI_REPORT", raising=False)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:  # as the model would list a contact whose id appears twice
        con.execute("""insert into marts.mart_quarantine (quarantine_id, account_id, detected_by, entity, record_id,
                           rule, detail, payload, detected_at)
                       select md5(id::varchar), account_id, 'warehouse', 'contacts', id::varchar, 'duplicate_id',
                              'id ' || id || ' appears 2 times', to_json(c)::varchar, now()::timestamp
                       from raw_amocrm.contacts as c order by id limit 3""")
    details = needles(contact_details(warehouse))
    assert {t for t, _, _ in leaks(warehouse, details, schema="marts")} == {"marts.mart_quarantine"}

    serving = runner.publish(warehouse)
    assert leaks(serving, details) == []
    ((quarantined,),) = rows(serving, "select count(*) from marts.mart_quarantine where entity = 'contacts'")
    assert quarantined == 3  # the rows stay, for the report's quarantine table; only the payload is kept back


def test_a_bi_user_holding_the_serving_copy_read_write_neither_blocks_the_report_nor_publishing(
    own_warehouse, defaults
) -> None:
    warehouse = own_warehouse
    serving = runner.publish(warehouse)
    report = settings.report_path(warehouse)
    bi = subprocess.Popen([sys.executable, "-c", BI_SESSION, str(serving)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert bi.stdout.readline().strip() == "open", bi.stderr.read()
        # the BI session really holds DuckDB's lock: nobody else can open the serving file, even read-only
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(serving), read_only=True)

        # ... and the report reads its own copy all the same
        from streamlit_app import data

        assert data.serving_file() == report
        data.check_marts()
        ((managers,),) = rows(warehouse, "select count(*) from marts.mart_manager_kpi_monthly")
        assert data.select("select count(*) as n from marts.mart_manager_kpi_monthly")["n"].iloc[0] == managers
        ((loaded,),) = rows(warehouse, "select max(inserted_at) from raw_amocrm._dlt_loads where status = 0")
        assert data.last_load(data.Access.everyone()) == loaded  # the open report (no sign-in configured)
        at = AppTest.from_file(str(APP), default_timeout=30).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.metric  # the overview's KPI cards: the marts were read

        # republishing while the session stays open succeeds and swaps in a new file
        before = serving.stat()
        assert Path(f"{serving}.wal").exists()  # the BI session's writes, which belong to the old file
        assert runner.publish(warehouse) == serving
        after = serving.stat()
        assert (after.st_ino, after.st_mtime_ns) != (before.st_ino, before.st_mtime_ns)
        # new BI sessions open the new copy, without the old session's lock or its WAL replayed onto it
        assert relations(serving) == relations(report) and ("main", "bi_scratch") not in relations(serving)
        assert data.select("select count(*) as n from marts.mart_manager_kpi_monthly")["n"].iloc[0] == managers
    finally:
        out, err = bi.communicate("\n", timeout=60)
    assert bi.returncode == 0, err
    assert int(out.split()[-1]) == managers  # the BI session kept reading the copy it had open


def test_publish_leaves_no_temporary_files(own_warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither a publish nor a failed one leaves anything beside the copies; a failed one keeps the old copies."""
    out = tmp_path / "published"
    monkeypatch.setenv("AMOKPI_SERVING", str(out / "bi" / "warehouse.serving.duckdb"))
    monkeypatch.setenv("AMOKPI_REPORT", str(out / "report" / "warehouse.report.duckdb"))
    for _ in range(2):
        runner.publish(own_warehouse)
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["bi/warehouse.serving.duckdb", "report/warehouse.report.duckdb"]
    good = {f: (out / f).read_bytes() for f in files}

    empty = tmp_path / "empty.duckdb"  # a warehouse without marts: nothing to publish
    duckdb.connect(str(empty)).close()
    with pytest.raises(runner.StepFailed, match="nothing to publish"):
        runner.publish(empty)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == files
    assert {f: (out / f).read_bytes() for f in files} == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.duckdb", "published"]


def test_every_published_table_and_column_carries_its_description(demo_warehouse) -> None:
    """dbt's persist_docs writes each mart's and column's description as a comment; publish keeps them, so a
    SQL client or BI tool reading the serving copy shows the docs (the KPI columns' are the registry's)."""
    from amokpi.kpis import registry

    serving = demo_warehouse.serving
    undocumented = rows(serving, "select table_name, column_name from duckdb_columns()"
                                 " where schema_name = 'marts' and coalesce(comment, '') = ''")
    assert undocumented == []
    assert rows(serving, "select table_name from duckdb_tables() where schema_name = 'marts'"
                         " and coalesce(comment, '') = '' union all select view_name from duckdb_views()"
                         " where schema_name = 'marts' and not internal and coalesce(comment, '') = ''") == []
    ((win_rate,),) = rows(serving, "select comment from duckdb_columns() where schema_name = 'marts'"
                                   " and table_name = 'mart_manager_kpi_monthly' and column_name = 'win_rate'")
    assert win_rate == registry()["win_rate"].description
    ((grain,),) = rows(serving, "select comment from duckdb_tables() where schema_name = 'marts'"
                                " and table_name = 'fct_leads'")
    assert grain.startswith("Grain: one row per lead")
