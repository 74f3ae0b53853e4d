"""What has been delivered: a small DuckDB file of the notifier's own, beside the warehouse.

Not a dbt model and not in the warehouse: `dbt build` and publish never touch it, a nightly run never
holds it, and re-creating the warehouse keeps it. One row per delivered item × recipient × channel;
a row is written only after the channel accepted the message, and committed at once, so a crash
between two sends re-sends nothing that arrived and loses nothing that did not."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import duckdb

from amokpi.settings import warehouse_path

TABLE = "sent_messages"  # in the file's own main schema (a schema named like the file would be ambiguous)


def log_path(warehouse: Path | None = None) -> Path:
    """`AMOKPI_NOTIFY_LOG`, or `<warehouse stem>.notify.duckdb` beside the warehouse."""
    value = os.environ.get("AMOKPI_NOTIFY_LOG")
    if value:
        return Path(value).resolve()
    warehouse = warehouse or warehouse_path()
    return warehouse.with_name(f"{warehouse.stem}.notify.duckdb")


class SentLog:
    """kind: alert (item_key = mart_alerts.alert_id), head_digest or manager_digest (item_key = ISO week)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(path))
        self.con.execute(f"""
            create table if not exists {TABLE} (
                account_id bigint not null,
                kind varchar not null,
                item_key varchar not null,
                user_id bigint not null,
                channel varchar not null,
                sent_at timestamp with time zone not null,
                primary key (account_id, kind, item_key, user_id, channel)
            )""")

    def sent(self, account_id: int) -> set[tuple[str, str, int, str]]:
        rows = self.con.execute(f"select kind, item_key, user_id, channel from {TABLE} "
                                "where account_id = ?", [account_id]).fetchall()
        return {(kind, key, int(user), channel) for kind, key, user, channel in rows}

    def record(self, account_id: int, kind: str, keys: Iterable[str], user_id: int, channel: str,
               at: datetime) -> None:
        self.con.executemany(
            f"insert into {TABLE} values (?, ?, ?, ?, ?, ?) on conflict do nothing",
            [[account_id, kind, key, user_id, channel, at] for key in keys])

    def close(self) -> None:
        self.con.close()
