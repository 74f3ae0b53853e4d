"""One `amokpi notify`: for each account with recipients, the digests due this week and the new
high-severity alerts, sent on each recipient's channels unless the account is in its quiet hours;
every delivery recorded in the sent-log, every failure reported (and left for the next run).

What is due, by the sent-log's key (account, kind, item, recipient, channel):
- head_digest / manager_digest: once per ISO week (account timezone), from the first run on or after
  `digest_weekday`;
- alert: once per mart_alerts.alert_id, severity high, to every head and to the manager it is about;
  a recipient's new alerts go out together, ten to a message."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from amokpi.notify import content, messages
from amokpi.notify.channels import SendFailed, deliver
from amokpi.notify.config import NotifyConfig
from amokpi.notify.sent_log import SentLog, log_path
from amokpi.settings import report_file

log = logging.getLogger("amokpi.notify")
ALERTS_PER_MESSAGE = 10
CHANNELS = (("telegram", "telegram_chat_id"), ("email", "email"))


class NotifyError(RuntimeError):
    """Nothing could be read (no published marts); the sent-log is unchanged."""


@dataclass
class Pending:
    account_id: int
    kind: str  # head_digest, manager_digest or alert
    keys: list[str]  # the ISO week of a digest; the alert ids a message carries
    user_id: int
    channel: str
    address: str
    message: messages.Message

    def describe(self) -> str:
        what = self.keys[0] if self.kind != "alert" else f"{len(self.keys)} alert(s)"
        return f"{self.kind} {what} -> user {self.user_id} by {self.channel}"


@dataclass
class Summary:
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"notify: {len(self.sent)} sent, {len(self.failed)} failed, {len(self.held)} held back "
                f"(quiet hours), {len(self.skipped)} skipped (channel not configured)")


def in_quiet_hours(moment: time, quiet: tuple[time, time] | None) -> bool:
    if quiet is None:
        return False
    start, end = quiet
    return start <= moment < end if start < end else (moment >= start or moment < end)


def run(config: NotifyConfig, now: datetime | None = None, marts: Path | None = None,
        sent_log: Path | None = None) -> Summary:
    now = now or datetime.now(UTC)
    marts = marts or report_file()
    if not marts.is_file():
        raise NotifyError(f"no published marts at {marts}: run `amokpi run` first")
    summary = Summary()
    con = duckdb.connect(str(marts), read_only=True)
    sent = SentLog(sent_log or log_path())
    try:
        recipients = content.recipients(con)
        for account_id in sorted({int(r["account_id"]) for r in recipients}):
            acc = content.account(con, account_id)
            local = now.astimezone(ZoneInfo(acc.timezone))
            pending = list(_due(con, config, acc, [r for r in recipients if r["account_id"] == account_id],
                                sent.sent(account_id), local))
            if in_quiet_hours(local.time(), config.quiet_hours):
                until = config.quiet_hours[1].strftime("%H:%M")  # type: ignore[index]
                summary.held += [f"{p.describe()} (until {until} {acc.timezone})" for p in pending]
                continue
            for item in pending:
                configured = config.telegram if item.channel == "telegram" else config.email
                if configured is None:
                    summary.skipped.append(f"{item.describe()}: notify.{item.channel} is not configured")
                    continue
                try:
                    attempts = deliver(config, item.channel, item.address, item.message.render())
                except SendFailed as exc:
                    log.error("%s failed: %s", item.describe(), exc)
                    summary.failed.append(f"{item.describe()}: {exc}")
                    continue
                sent.record(account_id, item.kind, item.keys, item.user_id, item.channel, now)
                summary.sent.append(f"{item.describe()} ({attempts} attempt{'s' if attempts > 1 else ''})")
    finally:
        sent.close()
        con.close()
    return summary


def _due(con: duckdb.DuckDBPyConnection, config: NotifyConfig, acc: content.Account, recipients: list[content.Row],
         done: set[tuple[str, str, int, str]], local: datetime) -> Iterator[Pending]:
    """Every message of this account not yet delivered, per recipient and channel."""
    year, week, weekday = local.isocalendar()
    week_key = f"{year}-W{week:02d}"
    head_digest = None
    for recipient in recipients:
        user, lang = int(recipient["user_id"]), str(recipient["language"])
        channels = [(channel, str(recipient[column])) for channel, column in CHANNELS if recipient[column]]
        is_head = recipient["recipient_role"] == "head"
        if weekday >= config.digest_weekday:
            kind = "head_digest" if is_head else "manager_digest"
            todo = [(c, a) for c, a in channels if (kind, week_key, user, c) not in done]
            if todo:
                if is_head:
                    head_digest = head_digest or content.head_digest(con, acc)
                    message = messages.head_digest(acc, head_digest, lang, config.report_url)
                else:
                    message = messages.manager_digest(acc, content.manager_digest(con, acc, user),
                                                      str(recipient["user_name"] or user), user, lang,
                                                      config.report_url)
                for channel, address in todo:
                    yield Pending(acc.account_id, kind, [week_key], user, channel, address, message)
        alerts = [a for a in content.high_alerts(con, acc.account_id) if is_head or int(a["manager_id"]) == user]
        for channel, address in channels:
            new = [a for a in alerts if ("alert", str(a["alert_id"]), user, channel) not in done]
            for start in range(0, len(new), ALERTS_PER_MESSAGE):
                chunk = new[start:start + ALERTS_PER_MESSAGE]
                yield Pending(acc.account_id, "alert", [str(a["alert_id"]) for a in chunk], user, channel, address,
                              messages.alerts_message(acc, chunk, lang, config.report_url))
