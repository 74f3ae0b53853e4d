"""Data-quality gates end to end: data corrupted on purpose through the demo API (duplicate ids, a
negative price, an orphan status, a missing day of events) is caught with the right severity, an
error keeps `amokpi run` from replacing the serving copy, a warning lets it publish, every result
lands in marts.data_quality_runs, and no good record is lost (everything stays in raw, the broken
records are listed in marts.mart_quarantine).

Two checked runs of one account: the first meets a warning only (a missing day of events) and
publishes; the second, a full reload, meets every fault and must not publish. A run with no fault
at all is `amokpi demo`'s, which test_cli checks (it passes, publishes and prints the gate's report)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dbt_artifacts import analyst_build_results
from local_processes import free_port

from expectations.docs import docs_dir
from expectations.results import dbt_rows
from ingestion.demo.account import DemoAccount, generate_account
from ingestion.demo.api import DemoApiServer
from ingestion.demo.faults import ORPHAN_STATUS_ID, Faults
from ingestion.pipeline import runner

MISSING_DAY = "2025-11-12"


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class GateRun:
    gate: runner.QualityGate
    failed: runner.StepFailed | None
    published: Path | None


def checked_run(account: DemoAccount, warehouse: Path, port: int, faults: Faults | None = None,
                full_refresh: bool = False, freshness: bool = True) -> GateRun:
    """What `amokpi run` does: ingest, GX raw, source freshness, dbt build (with its tests), publish unless an
    error. The same port each time: one account address, so one dlt pipeline (and cursors) across runs.
    `freshness=False` leaves out the step that reads no data the faults touch (and never stops a run)."""
    with DemoApiServer(account, port=port, faults=faults) as server:
        os.environ["SOURCES__AMOCRM__BASE_URL"] = server.base_url
        os.environ["SOURCES__AMOCRM__ACCESS_TOKEN"] = server.token
        runner.ingest(warehouse, full_refresh=full_refresh, requests_per_second=0)
    gate = runner.QualityGate(warehouse)
    session = gate.start_build(freshness=freshness)  # dbt parses while GX validates, as in `amokpi run`
    try:
        gate.validate_raw()
        gate.build(freshness=freshness)
        return GateRun(gate, None, gate.publish())
    except runner.StepFailed as exc:
        return GateRun(gate, exc, None)
    finally:
        session.abandon()


@dataclass
class Scenario:
    account: DemoAccount
    warehouse: Path
    serving: Path
    warn_only: GateRun  # the first run: a warning only, published
    serving_digest_after_warn: str
    bad: GateRun
    bad_faults: Faults
    serving_digest_after_bad: str
    bad_raw_leads: set[int]
    bad_raw_events: set[str]
    bad_quarantine: list[tuple]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    account = generate_account(seed=21, months=3, leads_per_month=60)
    warehouse = tmp_path_factory.mktemp("dq") / "warehouse.duckdb"
    port = free_port()
    warn_only = checked_run(account, warehouse, port, Faults(missing_event_days={MISSING_DAY}))
    assert warn_only.failed is None, str(warn_only.failed)
    serving = warn_only.published
    after_warn = digest(serving)

    ids = [lead["id"] for lead in account.leads if not lead.get("is_deleted")]
    on_lead_cards = {note["entity_id"] for note in account.notes}  # leads with calls on their own card
    malformed = next(i for i in ids[6:] if i in on_lead_cards)
    faults = Faults(duplicate_lead_ids={ids[3]}, negative_price_lead_ids={ids[4]},
                    orphan_status_lead_ids={ids[5]}, missing_event_days={MISSING_DAY}, corrupt_lead_ids={malformed})
    bad = checked_run(account, warehouse, port, faults, full_refresh=True,  # a full reload meets a faulty API
                      freshness=False)
    after_bad = digest(serving)
    raw_leads = {r[0] for r in query(warehouse, "select id from raw_amocrm.leads")}
    raw_events = {r[0] for r in query(warehouse, "select id from raw_amocrm.events")}
    quarantine = query(warehouse, "select detected_by, rule, record_id, account_id from marts.mart_quarantine")
    return Scenario(account, warehouse, serving, warn_only, after_warn, bad, faults, after_bad, raw_leads, raw_events,
                    quarantine)


def checks(warehouse: Path, run_id: str, status: str | None = None) -> dict[str, tuple]:
    sql = """select check_name, tool, severity, status, failing_rows, message
             from marts.data_quality_runs where run_id = ?"""
    rows = query(warehouse, sql + (" and status = ?" if status else ""), [run_id] + ([status] if status else []))
    return {r[0]: r[1:] for r in rows}


def test_a_run_without_errors_passes_publishes_and_records_every_check(scenario: Scenario) -> None:
    run_id = scenario.warn_only.gate.run_id
    recorded = checks(scenario.warehouse, run_id)
    tools = {v[0] for v in recorded.values()}
    assert tools == {"gx", "dbt"}
    assert all(v[2] in ("pass", "warn") for v in recorded.values()), [k for k, v in recorded.items() if v[2] == "fail"]
    # every raw table has a GX suite that ran, and only raw tables do: GX owns the raw layer
    suites = {r[0] for r in query(scenario.warehouse, "select distinct suite from marts.data_quality_runs "
                                                      "where run_id = ? and tool = 'gx'", [run_id])}
    for table in ("account", "users", "pipelines", "statuses", "loss_reasons", "custom_fields", "leads", "contacts",
                  "companies", "tasks", "notes", "events"):
        assert f"raw_{table}" in suites
    gx_tables = {t for (t,) in query(scenario.warehouse, "select distinct table_name from marts.data_quality_runs "
                                                         "where run_id = ? and tool = 'gx'", [run_id])}
    assert gx_tables and all(t.startswith("raw_amocrm.") for t in gx_tables), gx_tables
    # every mart is owned by dbt: each has dbt tests that ran in this build, and passed
    marts = {t for (t,) in query(scenario.serving, "select table_name from information_schema.tables where "
                                                   "table_schema = 'marts' and table_name not like 'data_quality%'")}
    tested = {t.removeprefix("marts.") for (t,) in query(
        scenario.warehouse, "select distinct table_name from marts.data_quality_runs "
                            "where run_id = ? and tool = 'dbt' and suite = 'test' and status = 'pass'", [run_id])}
    assert marts - tested == set(), marts - tested
    # the SQL's unit tests are not the data's: they run once in make test (test_known_answer), not nightly
    assert query(scenario.warehouse, "select count(*) from marts.data_quality_runs "
                                     "where run_id = ? and tool = 'dbt' and suite = 'unit_test'", [run_id])[0][0] == 0
    # the dbt tests of that build, including the quarantine model's
    assert "unique_mart_quarantine_quarantine_id" in recorded
    # dbt source freshness of that run: every raw table with a rule, and the last load, just loaded
    fresh = {k: v for k, v in recorded.items() if k.startswith("freshness(")}
    assert set(fresh) == {f"freshness(amocrm.{t})" for t in ("account", "users", "pipelines", "statuses",
                                                             "loss_reasons", "custom_fields", "leads", "contacts",
                                                             "companies", "tasks", "task_types", "notes", "events")} \
        | {"freshness(amocrm_loads._dlt_loads)"}
    assert all(v[2] == "pass" for v in fresh.values()), fresh
    assert fresh["freshness(amocrm_loads._dlt_loads)"][1] == "error"  # it has an error threshold; tables warn only
    assert (docs_dir(scenario.warehouse) / "index.html").exists()


def test_each_corruption_is_caught_with_its_severity(scenario: Scenario) -> None:
    failed = checks(scenario.warehouse, scenario.bad.gate.run_id)
    expected = {
        # negative price: an error in raw (GX) and again in staging (dbt)
        "raw_leads.expect_column_values_to_be_between(price)": ("error", "fail"),
        # orphan status: the lead's (pipeline, status) pair is not a status of its pipeline
        "raw_leads.expect_column_values_to_be_in_set(pipeline_status)": ("error", "fail"),
        # duplicate id: the copy claims an account that was not loaded (error); the id twice (warn)
        "raw_leads.expect_column_values_to_be_in_set(account_id)": ("error", "fail"),
        "raw_leads.expect_column_values_to_be_unique(id)": ("warn", "warn"),
        # a missing day of events: a gap in the history is a warning (holidays can be quiet)
        "raw_events_daily.expect_column_values_to_be_null(day_without_events)": ("warn", "warn"),
        # the malformed lead sits in raw_amocrm.quarantine, so its calls point at a lead not in raw_amocrm.leads
        "raw_notes.expect_column_values_to_be_in_set(entity_id)": ("warn", "warn"),
    }
    for name, (severity, status) in expected.items():
        assert failed[name][1:3] == (severity, status), name
    assert MISSING_DAY in failed["raw_events_daily.expect_column_values_to_be_null(day_without_events)"][4]
    assert "-" in failed["raw_leads.expect_column_values_to_be_between(price)"][4]
    assert f"/{ORPHAN_STATUS_ID}" in failed["raw_leads.expect_column_values_to_be_in_set(pipeline_status)"][4]
    # nothing else failed in raw: each fault trips its own checks
    raw_failures = {k for k, v in failed.items() if v[0] == "gx" and v[2] != "pass" and k.startswith("raw_")}
    assert raw_failures == set(expected)
    # dbt's own staging test on price caught it too, and is recorded
    dbt_failed = [k for k, v in failed.items() if v[0] == "dbt" and v[2] == "fail"]
    assert any("price" in k for k in dbt_failed), dbt_failed


def test_an_error_does_not_replace_the_serving_copy(scenario: Scenario) -> None:
    assert scenario.bad.failed is not None and scenario.bad.published is None
    message = str(scenario.bad.failed)
    assert "not published" in message and "the report keeps the last good data" in message
    assert scenario.serving_digest_after_bad == scenario.serving_digest_after_warn
    bad_lead = min(scenario.bad_faults.negative_price_lead_ids)
    ((price,),) = query(scenario.serving, "select price_amount from marts.fct_leads where lead_id = ?", [bad_lead])
    assert price > 0  # the report still shows the good value


def test_no_good_record_is_lost_and_broken_ones_are_quarantined(scenario: Scenario) -> None:
    faults, account = scenario.bad_faults, scenario.account
    (duplicate,), (negative,), (orphan,), (malformed,) = (faults.duplicate_lead_ids, faults.negative_price_lead_ids,
                                                         faults.orphan_status_lead_ids, faults.corrupt_lead_ids)
    # every lead is in raw (the broken ones too: flagged, not dropped) except the malformed one,
    # which the source kept in raw_amocrm.quarantine; every event outside the missing day is there
    assert scenario.bad_raw_leads == {lead["id"] for lead in account.leads if not lead["is_deleted"]} - {malformed}
    tz = ZoneInfo("Europe/Moscow")
    day = {e["id"]: datetime.fromtimestamp(e["created_at"], tz).date().isoformat() for e in account.events}
    assert scenario.bad_raw_events == {i for i, d in day.items() if d != MISSING_DAY}
    assert any(d == MISSING_DAY for d in day.values())
    # the quarantine mart lists each broken record with the rule it broke, and no good record
    found = {(by, rule, int(rid)) for by, rule, rid, _ in scenario.bad_quarantine}
    assert ("warehouse", "negative_price", negative) in found
    assert ("warehouse", "orphan_status", orphan) in found
    assert ("warehouse", "duplicate_id", duplicate) in found
    assert ("warehouse", "unknown_account", duplicate) in found
    assert ("source", "malformed_record", malformed) in found
    assert {int(r[2]) for r in scenario.bad_quarantine} == {duplicate, negative, orphan, malformed}


def test_a_warning_lets_the_run_publish(scenario: Scenario) -> None:
    run = scenario.warn_only
    assert run.failed is None and run.published == scenario.serving
    warned = checks(scenario.warehouse, run.gate.run_id, status="warn")
    day = warned["raw_events_daily.expect_column_values_to_be_null(day_without_events)"]
    assert day[1] == "warn" and MISSING_DAY in day[4]
    assert not checks(scenario.warehouse, run.gate.run_id, status="fail")
    # the published copy carries the results, for the report's data-quality page
    assert query(scenario.serving, "select count(*) from marts.data_quality_runs where run_id = ? and status = 'warn'",
                 [run.gate.run_id])[0][0] >= 1


def test_dbt_results_are_parsed_from_run_results(tmp_path: Path) -> None:
    manifest = {"nodes": {
        "test.amokpi.unique_x_id.1": {"name": "unique_x_id", "column_name": "id", "config": {"severity": "ERROR"},
                                      "attached_node": "model.amokpi.x", "resource_type": "test"},
        "test.amokpi.warned.2": {"name": "warned", "config": {"severity": "warn"}, "attached_node": "model.amokpi.x"},
        "model.amokpi.x": {"name": "x", "schema": "marts", "alias": "x", "resource_type": "model"},
    }, "unit_tests": {}, "sources": {}}
    results = {"results": [
        {"unique_id": "test.amokpi.unique_x_id.1", "status": "fail", "failures": 3, "message": "Got 3 results"},
        {"unique_id": "test.amokpi.warned.2", "status": "warn", "failures": 1, "message": "Got 1 result"},
        {"unique_id": "model.amokpi.x", "status": "success", "failures": None, "message": "OK"},
        {"unique_id": "model.amokpi.y", "status": "error", "failures": None, "message": "Binder Error"},
        {"unique_id": "test.amokpi.skipped.3", "status": "skipped", "failures": None, "message": None},
    ]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "run_results.json").write_text(json.dumps(results))
    rows = {r.check_name: r for r in dbt_rows(tmp_path)}
    assert set(rows) == {"unique_x_id", "warned", "y"}
    assert (rows["unique_x_id"].status, rows["unique_x_id"].severity, rows["unique_x_id"].failing_rows) == \
        ("fail", "error", 3)
    assert rows["unique_x_id"].table_name == "marts.x" and rows["unique_x_id"].column_name == "id"
    assert (rows["warned"].status, rows["warned"].severity) == ("warn", "warn")
    assert rows["y"].status == "fail" and "Binder Error" in rows["y"].message
    assert dbt_rows(tmp_path, since=(tmp_path / "run_results.json").stat().st_mtime + 10) == []  # stale file


def test_a_failed_dbt_test_alone_keeps_the_run_from_publishing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # dbt owns the mart invariants: a build whose tests fail (dbt exits 1) stops the run even when
    # GX found nothing, and the failed test is in the run's report
    from expectations import results

    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()

    def build_with_a_failing_test(warehouse: Path, run_id: str | None = None, with_tests: bool = True,
                                  **plan: object) -> None:  # full_refresh / changed_since: whatever the plan
        assert with_tests  # the gate always runs dbt's tests
        results.write(warehouse, run_id, [results.Row("dbt", "test", "unique_mart_x_id", "marts.mart_x", "id", "error",
                                                      "fail", 2, None, "Got 2 results, configured to fail if != 0")])
        raise runner.StepFailed("dbt build failed (exit 1)")

    published: list[Path | None] = []
    monkeypatch.setattr(runner, "build", build_with_a_failing_test)
    monkeypatch.setattr(runner, "publish", published.append)
    gate = runner.QualityGate(warehouse)
    with pytest.raises(runner.StepFailed, match="not published: the report keeps the last good data"):
        gate.build()
    assert "unique_mart_x_id" in gate.report_text()
    with pytest.raises(runner.StepFailed, match="not published"):
        gate.publish()
    assert published == []


def test_stale_sources_are_reported_with_their_age(scenario: Scenario, tmp_path: Path) -> None:
    """Loads four days old break _dlt_loads' error threshold (72 h); a table no load touched for eight days
    breaks its warning one (7 days): dbt source freshness records both, with how long ago they were loaded."""
    stale = tmp_path / "warehouse.duckdb"
    stale.write_bytes(scenario.warehouse.read_bytes())
    with duckdb.connect(str(stale)) as con:
        con.execute("update raw_amocrm._dlt_loads set inserted_at = inserted_at - interval 4 day")
        con.execute("update raw_amocrm.leads set _dlt_load_id = cast(epoch(now()) - 8 * 86400 as varchar)")
    assert runner.source_freshness(stale, "stale-run") == 14
    found = checks(stale, "stale-run")
    loads, leads = found["freshness(amocrm_loads._dlt_loads)"], found["freshness(amocrm.leads)"]
    assert loads[1:3] == ("error", "fail") and "error after 72 hour(s)" in loads[4]
    assert float(loads[4].split("(")[1].split(" h")[0]) >= 96
    assert leads[1:3] == ("warn", "warn") and float(leads[4].split("(")[1].split(" h")[0]) >= 8 * 24
    assert found["freshness(amocrm.contacts)"][2] == "pass"


def test_freshness_results_are_parsed_from_sources_json(tmp_path: Path) -> None:
    from expectations.results import freshness_rows

    results = {"results": [
        {"unique_id": "source.amokpi.amocrm_loads._dlt_loads", "status": "error", "max_loaded_at_time_ago_in_s": 90000,
         "max_loaded_at": "2026-11-30T00:00:00", "criteria": {"warn_after": {"count": 26, "period": "hour"},
                                                               "error_after": {"count": 72, "period": "hour"}}},
        {"unique_id": "source.amokpi.amocrm.leads", "status": "pass", "max_loaded_at_time_ago_in_s": 3600,
         "max_loaded_at": "2026-12-01T00:00:00", "criteria": {"warn_after": {"count": 7, "period": "day"},
                                                               "error_after": {"count": None, "period": None}}},
        {"unique_id": "source.amokpi.amocrm.notes", "status": "runtime error", "error": "Binder Error: no column"},
    ]}
    manifest = {"sources": {"source.amokpi.amocrm.leads": {"schema": "raw_amocrm", "identifier": "leads"}}}
    (tmp_path / "sources.json").write_text(json.dumps(results))
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    rows = {r.check_name: r for r in freshness_rows(tmp_path)}
    loads, leads, notes = (rows["freshness(amocrm_loads._dlt_loads)"], rows["freshness(amocrm.leads)"],
                           rows["freshness(amocrm.notes)"])
    assert (loads.status, loads.severity, loads.suite) == ("fail", "error", "freshness")
    assert "25.0 h before the check" in loads.message and "error after 72 hour(s)" in loads.message
    assert (leads.status, leads.severity, leads.table_name) == ("pass", "warn", "raw_amocrm.leads")
    assert "error after never" in leads.message
    assert notes.status == "fail" and "Binder Error" in notes.message
    assert freshness_rows(tmp_path, since=(tmp_path / "sources.json").stat().st_mtime + 10) == []  # stale file


AMOKPI = str(Path(sys.executable).with_name("amokpi"))


def test_amokpi_publish_goes_through_the_gate(scenario: Scenario, tmp_path: Path) -> None:
    """`amokpi publish` after an analyst's own dbt build refuses without that build's results, on its failed
    test, and on raw data GX rejects (this scenario's last load is the faulty one), leaving no copy;
    test_known_answer publishes a clean one."""
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(scenario.warehouse.read_bytes())
    env = {k: v for k, v in os.environ.items() if k not in ("AMOKPI_SERVING", "AMOKPI_REPORT")}
    env.update(AMOKPI_WAREHOUSE=str(warehouse), DBT_TARGET_PATH=str(tmp_path / "target"))
    serving = warehouse.with_name("warehouse.serving.duckdb")
    missing = subprocess.run([AMOKPI, "publish"], env=env, capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1 and "run `dbt build`" in missing.stderr

    analyst_build_results(tmp_path / "target", failing=True)
    refused = subprocess.run([AMOKPI, "publish"], env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and "not published" in refused.stderr
    assert "FAIL dbt unique_mart_x_id" in refused.stderr or "unique_mart_x_id" in refused.stderr
    assert "raw_leads.expect_column_values_to_be_between(price)" in refused.stderr  # GX saw the bad raw rows
    assert not serving.exists()
