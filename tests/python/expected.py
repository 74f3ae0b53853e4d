"""What a complete load of a demo account holds, table by table (a helper for the tests)."""

from __future__ import annotations

from ingestion.demo_account import DemoAccount


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
