"""What a complete load of a demo account holds, table by table (a helper for the tests)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingestion.demo.account import DemoAccount

FACTS = ["leads", "deleted_leads", "contacts", "companies", "tasks", "notes", "events"]


def served(account: DemoAccount, table: str) -> list[dict]:
    """The records of `account` that a complete load puts in raw_amocrm.<table>: live leads in
    `leads` (deleted ones amoCRM lists only trimmed, in `deleted_leads`), call notes of every card
    in `notes`."""
    if table == "leads":
        return [lead for lead in account.leads if not lead.get("is_deleted")]
    if table == "deleted_leads":
        return [lead for lead in account.leads if lead.get("is_deleted")]
    if table == "notes":
        return account.notes + account.contact_notes + account.company_notes
    return getattr(account, table)


def served_ids(account: DemoAccount, table: str) -> list:
    return sorted(r["id"] for r in served(account, table))


def raw_ids(warehouse: Path, table: str) -> list:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return sorted(r[0] for r in con.execute(f"select id from raw_amocrm.{table}").fetchall())


def assert_complete(warehouse: Path, account: DemoAccount, tables: list[str] = FACTS,
                    missing_leads: set[int] = frozenset()) -> None:
    """Every table holds exactly what a complete load of `account` holds (but `missing_leads`)."""
    for table in tables:
        expected = sorted(r["id"] for r in served(account, table) if table != "leads" or r["id"] not in missing_leads)
        assert raw_ids(warehouse, table) == expected, table
