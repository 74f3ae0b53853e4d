"""A reorganisation does not rewrite last quarter: a manager moved to another group keeps the
old group (and team figures) for the months before the move, through the real pipeline."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingestion.demo.account import GROUPS, generate_account
from ingestion.demo.api import DemoApiServer
from ingestion.pipeline import runner

pytestmark = pytest.mark.integration  # two ingests and dbt builds of its own

MOVED = 7_000_103  # Мария Иванова, group 1 → group 2


def build(account, warehouse: Path, monkeypatch) -> None:
    with DemoApiServer(account) as server:
        monkeypatch.setenv("SOURCES__AMOCRM__BASE_URL", server.base_url)
        monkeypatch.setenv("SOURCES__AMOCRM__ACCESS_TOKEN", server.token)
        runner.ingest(warehouse, requests_per_second=0)
    # the two marts read below and what they stand on (41 of the 75 models): the subject is group history,
    # not the rest of the project nor the dbt tests
    runner.run_dbt("build", warehouse, "--select", "+mart_manager_kpi_monthly", "+mart_team_kpi_monthly",
                   "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


@pytest.mark.slow  # builds a warehouse of its own: a heavier check, in `make bench`
def test_moved_manager_keeps_the_old_group_for_past_months(tmp_path: Path, monkeypatch) -> None:
    account = generate_account(seed=41, months=2, leads_per_month=30)
    warehouse = tmp_path / "warehouse.duckdb"  # the name every fixture warehouse has: dbt parses once (conftest)
    build(account, warehouse, monkeypatch)

    # the manager changes group; a month later a new lead arrives, moving the snapshot time on
    user = next(u for u in account.users if u["id"] == MOVED)
    user["rights"]["group_id"] = GROUPS[2][0]
    user["_embedded"]["groups"] = [{"id": GROUPS[2][0], "name": GROUPS[2][1]}]
    lead = copy.deepcopy(next(x for x in account.leads if x["responsible_user_id"] == MOVED))
    newest = max(x["updated_at"] for x in account.leads)
    lead.update(id=29_999_999, created_at=newest + 40 * 86400, updated_at=newest + 40 * 86400,
                status_id=account.pipelines[0]["_embedded"]["statuses"][1]["id"],
                pipeline_id=account.pipelines[0]["id"], closed_at=None, loss_reason_id=None, is_deleted=False)
    account.leads.append(lead)
    build(account, warehouse, monkeypatch)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        groups = dict(con.execute("""
            select month_start, group_id from marts.mart_manager_kpi_monthly where manager_id = ?""",
                                  [MOVED]).fetchall())
        history = con.execute("""select observed_day, group_id from intermediate.int_manager_group_history
                                 where manager_id = ? order by 1""", [MOVED]).fetchall()
        team_leads = dict(con.execute("""select group_id, sum(new_leads_count) from marts.mart_team_kpi_monthly
                                         group by 1""").fetchall())
        manager_leads = dict(con.execute("""select group_id, sum(new_leads_count) from marts.mart_manager_kpi_monthly
                                            group by 1""").fetchall())
    assert [g for _, g in history] == [GROUPS[1][0], GROUPS[2][0]]  # two observations, two groups
    past = [g for m, g in groups.items() if m < date(2026, 1, 1)]
    assert past and set(past) == {GROUPS[1][0]}  # November and December stay with group 1
    assert groups[max(groups)] == GROUPS[2][0]  # the month of the new lead is group 2's
    assert team_leads == manager_leads  # team rows add up exactly the managers' rows of each group
