"""One warehouse for the known-answer accounts: each account is served over HTTP and ingested as
nightly runs would, then a single dbt build covers them all (a build is the slow part). Tests read
their own account through `AccountView`, which scopes every warehouse table to that account."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

_TABLE = re.compile(r"\b(from|join)\s+((?:raw_amocrm|staging|intermediate|marts)\.(\w+))", re.IGNORECASE)


class AccountView:
    """A read-only connection that sees only one account's rows of every warehouse table."""

    def __init__(self, con: duckdb.DuckDBPyConnection, account_id: int) -> None:
        self.con, self.account_id = con, int(account_id)

    def execute(self, sql: str, params: list | None = None) -> duckdb.DuckDBPyConnection:
        def scope(m: re.Match) -> str:
            key = "id" if m.group(2).lower() == "raw_amocrm.account" else "account_id"
            return f"{m.group(1)} (select * from {m.group(2)} where {key} = {self.account_id}) as {m.group(3)}"

        scoped = _TABLE.sub(scope, sql)
        return self.con.execute(scoped, params or [])


@dataclass
class KnownAnswerBuild:
    warehouse: Path
    serving: Path
    real_shape: Any  # the real-shape account's demo API (its `log` holds every reply)
    unit_tests: list  # the results of dbt's unit tests, run in the build (expectations.results.Row)
    unit_tests_declared: int  # how many unit tests the project declares (the build's manifest)

    def view(self, account_id: int) -> AccountView:
        return AccountView(duckdb.connect(str(self.serving), read_only=True), account_id)
