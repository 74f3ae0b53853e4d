"""`amokpi notify` against real local servers (a fake Telegram Bot API over HTTP, an aiosmtpd server with
STARTTLS), reading the demo warehouse's published marts: the digests in Russian and English, each new
high-severity alert once per recipient and channel across runs, quiet hours holding messages back, a
failed send retried, reported and delivered by the next run rather than lost."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from conftest import AMOKPI, BuiltWarehouse
from notify_servers import FakeTelegram, SmtpServer

TOKEN = "123456:test-token"
HEADS = {"100001": "ru", "100002": "en"}  # the demo recipients seed: chat -> language
FRIDAY_NIGHT = "2026-10-30T23:30:00+03:00"  # quiet hours (22:00-08:00 Moscow), digest day reached
SATURDAY_MORNING = "2026-10-31T09:00:00+03:00"


@pytest.fixture()
def servers(tmp_path: Path):
    with FakeTelegram(TOKEN) as telegram, SmtpServer(tmp_path) as smtp:
        yield telegram, smtp


def notify(built: BuiltWarehouse, tmp_path: Path, telegram: FakeTelegram, smtp: SmtpServer, now: str,
           attempts: int = 3) -> subprocess.CompletedProcess:
    env = {**os.environ, "AMOKPI_WAREHOUSE": str(built.warehouse), "AMOKPI_SERVING": str(built.serving),
           "AMOKPI_NOTIFY_LOG": str(tmp_path / "notify.duckdb"),
           "NOTIFY__REPORT_URL": "http://report.example:8501", "NOTIFY__QUIET_HOURS": "22:00-08:00",
           "NOTIFY__DIGEST_WEEKDAY": "5", "NOTIFY__MAX_ATTEMPTS": str(attempts), "NOTIFY__RETRY_WAIT_SECONDS": "0",
           "NOTIFY__TELEGRAM__BASE_URL": telegram.base_url, "NOTIFY__TELEGRAM__BOT_TOKEN": TOKEN,
           "NOTIFY__EMAIL__SMTP_HOST": "127.0.0.1", "NOTIFY__EMAIL__SMTP_PORT": str(smtp.port),
           "NOTIFY__EMAIL__FROM_ADDRESS": "amokpi@demo.example", "NOTIFY__EMAIL__CA_FILE": str(smtp.cert_file)}
    env.pop("AMOKPI_REPORT", None)
    return subprocess.run([AMOKPI, "notify", "--now", now], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)


def high_alerts(built: BuiltWarehouse) -> dict[int, int]:
    with duckdb.connect(str(built.serving), read_only=True) as con:
        return dict(con.execute("select manager_id, count(*) from marts.mart_alerts where severity = 'high' "
                                "group by manager_id").fetchall())


def week_lines(built: BuiltWarehouse, manager_id: int | None = None) -> dict[str, str]:
    """The week-so-far line each language must carry, worded here from the mart's own figures (the department's
    week, or one manager's): revenue against the pro-rated plan to the snapshot day and its fulfilment."""
    from streamlit_app import formatting

    table, where = (("mart_manager_plan_weekly", f"and manager_id = {int(manager_id)}") if manager_id
                    else ("mart_department_plan_weekly", ""))
    with duckdb.connect(str(built.serving), read_only=True) as con:
        revenue, plan, rate = con.execute(
            "select revenue_amount, plan_revenue_to_date_amount, plan_fulfillment_to_date_rate "
            f"from marts.{table} where is_current_week {where}").fetchone()
    assert plan and plan > 0 and rate is not None, "the demo account has plans for the snapshot week"
    assert abs(rate - revenue / plan) < 1e-9
    money = {lang: (formatting.money(revenue, "RUB", lang), formatting.money(plan, "RUB", lang),
                    formatting.percent(rate, lang)) for lang in ("ru", "en")}
    return {"ru": "• Выручка: {} из плана на сегодня {} (выполнение плана {})".format(*money["ru"]),
            "en": "• Revenue: {} of the plan to date {} (plan fulfilment {})".format(*money["en"])}


def test_digests_and_alerts_reach_both_channels_once(demo_warehouse: BuiltWarehouse, tmp_path: Path, servers):
    telegram, smtp = servers
    alerts = high_alerts(demo_warehouse)
    assert sum(alerts.values()) > 0 and alerts.get(7000202), "the demo account has high alerts, some of 7000202"

    quiet = notify(demo_warehouse, tmp_path, telegram, smtp, FRIDAY_NIGHT)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "held back" in quiet.stdout and "0 sent" in quiet.stdout
    assert telegram.received == [] and smtp.received == []  # nothing in quiet hours

    # after them: the first sendMessage is refused 3 times (all its tries), the next one once (429), one mail once
    telegram.fail(3, 500)
    telegram.fail(1, 429)
    smtp.fail(1)
    first = notify(demo_warehouse, tmp_path, telegram, smtp, SATURDAY_MORNING)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "1 failed" in first.stdout and "FAILED" in first.stdout and "not delivered" in first.stderr
    assert TOKEN not in first.stdout + first.stderr
    assert any("(2 attempts)" in line for line in first.stdout.splitlines() if "by telegram" in line)
    assert any("(2 attempts)" in line for line in first.stdout.splitlines() if "by email" in line)

    second = notify(demo_warehouse, tmp_path, telegram, smtp, SATURDAY_MORNING)  # delivers the failed one only
    assert second.returncode == 0, second.stdout + second.stderr
    assert "1 sent, 0 failed" in second.stdout
    third = notify(demo_warehouse, tmp_path, telegram, smtp, SATURDAY_MORNING)
    assert "0 sent, 0 failed" in third.stdout

    texts: dict[str, list[str]] = {}
    for payload in telegram.received:
        texts.setdefault(str(payload["chat_id"]), []).append(payload["text"])
        assert payload["parse_mode"] == "HTML"
    # each digest once per chat, in the recipient's language
    for chat, lang in {**HEADS, "100104": "en", "100202": "ru"}.items():
        titles = Counter(text.split("\n")[0] for text in texts[chat])
        digest = [t for t in titles if "сводка недели" in t.lower() or "weekly digest" in t.lower()]
        assert len(digest) == 1 and titles[digest[0]] == 1, titles
        assert ("сводка недели" in digest[0].lower()) == (lang == "ru")
    head_ru = next(t for t in texts["100001"] if t.startswith("<b>Сводка недели"))
    head_en = next(t for t in texts["100002"] if t.startswith("<b>Weekly digest"))
    assert "октябрь 2026" in head_ru and "Выручка" in head_ru and "из плана" in head_ru
    assert "October 2026" in head_en and "Revenue" in head_en and "of plan" in head_en
    assert 'href="http://report.example:8501/funnel?month=2026-09-01' in head_en  # the worst drop-off's page
    assert "Behind plan or the team" in head_en and "Дмитрий Козлов" in head_en
    # the week so far (the snapshot's week, 26 October) against its pro-rated plan, the mart's figures
    week = week_lines(demo_warehouse)
    assert "<b>Неделя с 26 окт. 2026\u202fг., на сегодня</b>\n" + week["ru"] + "\n" in head_ru, head_ru[:900]
    assert "<b>Week of Oct 26, 2026, so far</b>\n" + week["en"] + "\n" in head_en, head_en[:900]
    manager_ru = next(t for t in texts["100202"] if t.startswith("<b>Ваша сводка недели"))
    assert 'href="https://demo.amocrm.ru/leads/detail/' in manager_ru  # each lead to its amoCRM card
    assert "вы " in manager_ru and "команда" in manager_ru
    assert week_lines(demo_warehouse, 7000202)["ru"] + "\n" in manager_ru  # the manager's own week against plan
    manager_en = next(t for t in texts["100104"] if t.startswith("<b>Your weekly digest"))
    assert week_lines(demo_warehouse, 7000104)["en"] + "\n" in manager_en

    # each high alert once: heads get all of them, a manager their own
    expected = {"100001": sum(alerts.values()), "100002": sum(alerts.values()), "100104": alerts.get(7000104, 0),
                "100202": alerts[7000202]}
    for chat, count in expected.items():
        lines = [line for text in texts[chat] if not text.startswith(("<b>Сводка", "<b>Weekly", "<b>Ваша", "<b>Your"))
                 for line in text.split("\n")[1:] if line.startswith("• ")]
        assert len(lines) == count == len(set(lines)), (chat, len(lines), count)

    # e-mail: the same messages over STARTTLS, one per address and item
    subjects = Counter((str(mail["To"]), str(mail["Subject"])) for mail, _ in smtp.received)
    assert all(tls for _, tls in smtp.received)
    assert subjects[("head@demo.example", "Сводка недели: Demo Sales LLC")] == 1
    assert subjects[("regions.head@demo.example", "Weekly digest: Demo Sales LLC")] == 1
    assert all(n == 1 for (_, subject), n in subjects.items() if "сводка" in subject.lower() or "digest" in subject)
    mail = next(m for m, _ in smtp.received if m["To"] == "user7000104@demo.example"
                and str(m["Subject"]).startswith("Your weekly digest"))
    assert "Calls: you" in mail.get_body(("plain",)).get_content()
    assert sum(len(texts[c]) for c in texts) == len(smtp.received)  # every chat message also went by e-mail
