"""The messages in words, Russian or English: alerts by the report's own wording (streamlit_app.alert_text,
from the alert's parameters), KPI names and units from the KPI registry, numbers by the report's Babel
helpers (streamlit_app.formatting). A message is built once as blocks and rendered three ways: Telegram
HTML, plain text and HTML for e-mail."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from amokpi.kpis import registry
from amokpi.notify.channels import Outgoing
from amokpi.notify.content import Account, HeadDigest, ManagerDigest, Row
from streamlit_app import formatting
from streamlit_app.alert_text import alert_message

TELEGRAM_LIMIT = 4096
ALERTS_PER_MANAGER = 3  # the head's digest explains each manager by their worst few alerts


@dataclass(frozen=True)
class Link:
    text: str
    url: str | None  # None: shown as plain text (a lead whose account has no known web address)


Segment = str | Link


@dataclass
class Message:
    title: str
    blocks: list[tuple[str, list[Segment]]] = field(default_factory=list)  # ("heading" | "line" | "item", ...)

    def heading(self, text: str) -> None:
        self.blocks.append(("heading", [text]))

    def line(self, *segments: Segment) -> None:
        self.blocks.append(("line", list(segments)))

    def item(self, *segments: Segment) -> None:
        self.blocks.append(("item", list(segments)))

    def render(self) -> Outgoing:
        return Outgoing(self.title, _telegram(self), _text(self), _html(self))


def _telegram(message: Message) -> str:
    def seg(s: Segment) -> str:
        if isinstance(s, Link) and s.url:
            return f'<a href="{html.escape(s.url)}">{html.escape(s.text)}</a>'
        return html.escape(s.text if isinstance(s, Link) else s)

    lines = [f"<b>{html.escape(message.title)}</b>"]
    for kind, segments in message.blocks:
        body = "".join(seg(s) for s in segments)
        lines.append({"heading": f"\n<b>{body}</b>", "item": f"• {body}"}.get(kind, body))
    text = "\n".join(lines)
    if len(text) <= TELEGRAM_LIMIT:
        return text
    tail = "\n…\n" + lines[-1]  # too long for one message: cut at a line, keep the closing link to the report
    return text[:TELEGRAM_LIMIT - len(tail)].rsplit("\n", 1)[0] + tail


def _text(message: Message) -> str:
    def seg(s: Segment) -> str:
        return f"{s.text} <{s.url}>" if isinstance(s, Link) and s.url else (s.text if isinstance(s, Link) else s)

    lines = [message.title, "=" * min(len(message.title), 60)]
    for kind, segments in message.blocks:
        body = "".join(seg(s) for s in segments)
        lines.append({"heading": f"\n{body}", "item": f"  - {body}"}.get(kind, body))
    return "\n".join(lines) + "\n"


def _html(message: Message) -> str:
    def seg(s: Segment) -> str:
        if isinstance(s, Link) and s.url:
            return f'<a href="{html.escape(s.url)}">{html.escape(s.text)}</a>'
        return html.escape(s.text if isinstance(s, Link) else s)

    parts, in_list = [f"<h2>{html.escape(message.title)}</h2>"], False
    for kind, segments in message.blocks:
        body = "".join(seg(s) for s in segments)
        if kind == "item" and not in_list:
            parts.append("<ul>")
        if kind != "item" and in_list:
            parts.append("</ul>")
        in_list = kind == "item"
        parts.append({"heading": f"<h3>{body}</h3>", "item": f"<li>{body}</li>"}.get(kind, f"<p>{body}</p>"))
    if in_list:
        parts.append("</ul>")
    return "<html><body>" + "\n".join(parts) + "</body></html>"


WORDS = {
    "ru": {
        "head_title": "Сводка недели: {account}", "manager_title": "Ваша сводка недели: {name}",
        "alerts_title": "Новые важные сигналы: {count}", "month": "{month}, на сегодня", "of_plan": " из плана ",
        "no_plan": " (плана нет)", "week": "Неделя с {day}, на сегодня", "previous": " (неделя до: {value})",
        "of_plan_to_date": " из плана на сегодня ", "week_plan": "; план недели {value}",
        "behind": "Отстают от плана или от команды", "nobody_behind": "Никто не отстаёт.",
        "fulfilment": "выполнение плана {value} (отдел {department})", "no_fulfilment": "плана нет",
        "waiting": "первый ответ сверх SLA: {count}", "stuck": "зависших сделок: {count}",
        "drop_off": "Самая большая потеря в воронке, {month}",
        "drop_off_line": "{stage} воронки {pipeline}: вошли {entered}, прошли дальше {advanced} ({rate})",
        "report": "Открыть в отчёте", "card": "карточка", "you": "вы", "team": "команда", "target": "цель",
        "score": "Оценка по матрице KPI: {score} из 100", "open_alerts": "Ваши сигналы по лидам: {count}",
        "no_alerts": "Сигналов нет.", "more": "и ещё {count}", "no_data": "Данных за этот месяц нет.",
    },
    "en": {
        "head_title": "Weekly digest: {account}", "manager_title": "Your weekly digest: {name}",
        "alerts_title": "New high-severity alerts: {count}", "month": "{month}, so far", "of_plan": " of plan ",
        "no_plan": " (no plan)", "week": "Week of {day}, so far", "previous": " (week before: {value})",
        "of_plan_to_date": " of the plan to date ", "week_plan": "; the week's plan {value}",
        "behind": "Behind plan or the team", "nobody_behind": "Nobody is behind.",
        "fulfilment": "plan fulfilment {value} (department {department})", "no_fulfilment": "no plan",
        "waiting": "first response past the SLA: {count}", "stuck": "stuck deals: {count}",
        "drop_off": "The funnel's biggest drop-off, {month}",
        "drop_off_line": "{stage} in pipeline {pipeline}: {entered} entered, {advanced} moved on ({rate})",
        "report": "Open in the report", "card": "card", "you": "you", "team": "team", "target": "target",
        "score": "KPI matrix score: {score} of 100", "open_alerts": "Your lead alerts: {count}",
        "no_alerts": "No alerts.", "more": "and {count} more", "no_data": "No data for this month yet.",
    },
}


def _w(lang: str, key: str, **values: object) -> str:
    return WORDS[lang][key].format(**values)


def report_link(base: str, page: str, lang: str, **params: object) -> str:
    """A report page's address; the overview is the report's home page, `/` (st.navigation's default page)."""
    query = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items() if v is not None}
    path = "" if page == "overview" else page
    return f"{base}/{path}?{urlencode({**query, 'lang': lang})}"


def _kpi(row: Mapping[str, object] | None, name: str, lang: str, currency: str | None) -> str:
    kpi = registry()[name]
    return formatting.value(None if row is None else row.get(name), kpi.unit, lang, currency)


def _as(row: Mapping[str, object] | None, column: str, name: str, lang: str, currency: str | None) -> str:
    """A mart column that is a variant of a registry KPI (a week's plan to date), in that KPI's unit."""
    return formatting.value(None if row is None else row.get(column), registry()[name].unit, lang, currency)


def _week_against_plan(week: Mapping[str, object], lang: str, cur: str | None) -> list[str]:
    """The week so far against its pro-rated plan (mart_*_plan_weekly): revenue and won deals, each against
    the plan to the snapshot day, the revenue's fulfilment, and the whole week's plan while days remain."""
    revenue = f"{_label('revenue_amount', lang)}: {_kpi(week, 'revenue_amount', lang, cur)}"
    deals = f"{_label('deals_won_count', lang)}: {_kpi(week, 'deals_won_count', lang, cur)}"
    if week.get("plan_revenue_to_date_amount") is None:
        return [revenue + _w(lang, "no_plan"), deals]
    to_date = _as(week, "plan_revenue_to_date_amount", "plan_revenue_amount", lang, cur)
    rate = _as(week, "plan_fulfillment_to_date_rate", "plan_fulfillment_rate", lang, cur)
    revenue += f"{_w(lang, 'of_plan_to_date')}{to_date} ({_label('plan_fulfillment_rate', lang).lower()} {rate})"
    whole = _as(week, "plan_revenue_amount", "plan_revenue_amount", lang, cur)
    if whole != to_date:
        revenue += _w(lang, "week_plan", value=whole)
    deals += f"{_w(lang, 'of_plan_to_date')}{formatting.number(week['plan_deals_to_date_count'], lang, 1)}"
    return [revenue, deals]


def _label(name: str, lang: str) -> str:
    return registry()[name].label(lang)


def _quoted(text: object, lang: str) -> str:
    return f"«{text}»" if lang == "ru" else f"“{text}”"


def _alert_link(alert: Row, lang: str, report_url: str) -> Link:
    """A lead alert links the lead's amoCRM card; a manager alert the manager's page of the report."""
    if alert.get("lead_id") is not None:
        return Link(_w(lang, "card"), alert.get("lead_url"))
    return Link(_w(lang, "report"), report_link(report_url, "manager", lang, manager=alert["manager_id"],
                                                 month=alert.get("month_start")))


def head_digest(acc: Account, digest: HeadDigest, lang: str, report_url: str) -> Message:
    cur = acc.currency
    msg = Message(_w(lang, "head_title", account=acc.account_name))
    msg.heading(_w(lang, "month", month=formatting.month(acc.month_start, lang)))
    if digest.month is None:
        msg.line(_w(lang, "no_data"))
    else:
        m = digest.month
        plan = (f"{_w(lang, 'of_plan')}{_kpi(m, 'plan_revenue_amount', lang, cur)} "
                f"({_kpi(m, 'plan_fulfillment_rate', lang, cur)})" if m.get("plan_revenue_amount") is not None
                else _w(lang, "no_plan"))
        msg.item(f"{_label('revenue_amount', lang)}: {_kpi(m, 'revenue_amount', lang, cur)}{plan}")
        deals_plan = (f"{_w(lang, 'of_plan')}{_kpi(m, 'plan_deals_count', lang, cur)}"
                      if m.get("plan_deals_count") is not None else "")
        msg.item(f"{_label('deals_won_count', lang)}: {_kpi(m, 'deals_won_count', lang, cur)}{deals_plan}")
        for name in ("new_leads_count", "win_rate"):
            msg.item(f"{_label(name, lang)}: {_kpi(m, name, lang, cur)}")
    if digest.weeks:
        this, before = digest.weeks[0], (digest.weeks[1] if len(digest.weeks) > 1 else None)
        msg.heading(_w(lang, "week", day=formatting.day(this["week_start"], lang)))
        for text in _week_against_plan(this, lang, cur):
            msg.item(text)
        for name in ("calls_count", "meetings_count", "new_leads_count", "proposals_sent_count"):
            previous = _w(lang, "previous", value=_kpi(before, name, lang, cur)) if before else ""
            msg.item(f"{_label(name, lang)}: {_kpi(this, name, lang, cur)}{previous}")
    if digest.drop_off is not None:
        d = digest.drop_off
        msg.heading(_w(lang, "drop_off", month=formatting.month(d["month_start"], lang)))
        msg.item(_w(lang, "drop_off_line", stage=_quoted(d["status_name"], lang),
                    pipeline=_quoted(d["pipeline_name"], lang),
                    entered=formatting.number(d["leads_entered_count"], lang),
                    advanced=formatting.number(d["leads_advanced_count"], lang),
                    rate=formatting.percent(d["stage_conversion_rate"], lang)), " ",
                 Link(_w(lang, "report"), report_link(report_url, "funnel", lang, month=d["month_start"],
                                                      pipeline=d["pipeline_id"])))
    msg.heading(_w(lang, "behind"))
    if not digest.behind:
        msg.line(_w(lang, "nobody_behind"))
    for manager in digest.behind:
        fulfilment = (_w(lang, "fulfilment", value=_kpi(manager, "plan_fulfillment_rate", lang, cur),
                         department=formatting.percent(manager["department_plan_fulfillment_rate"], lang))
                      if manager.get("plan_fulfillment_rate") is not None else _w(lang, "no_fulfilment"))
        counts = {r["alert_type"]: r["alerts_count"] for r in digest.lead_alert_counts
                  if r["manager_id"] == manager["manager_id"]}
        extra = [_w(lang, key, count=counts[rule]) for rule, key in (("no_first_response", "waiting"),
                                                                      ("stuck_deal", "stuck")) if counts.get(rule)]
        link = Link(_w(lang, "report"), report_link(report_url, "manager", lang, manager=manager["manager_id"],
                                                     month=acc.month_start))
        msg.item(f"{manager['manager_name']} — {fulfilment}; " + "; ".join(extra) + ("; " if extra else ""), link)
        explained = [a for a in digest.manager_alerts if a["manager_id"] == manager["manager_id"]]
        for alert in explained[:ALERTS_PER_MANAGER]:
            msg.line("    ", alert_message(alert, lang, cur))
        if len(explained) > ALERTS_PER_MANAGER:
            msg.line("    ", _w(lang, "more", count=len(explained) - ALERTS_PER_MANAGER))
    msg.line("")
    msg.line(Link(_w(lang, "report"), report_link(report_url, "overview", lang, month=acc.month_start)))
    return msg


def manager_digest(acc: Account, digest: ManagerDigest, name: str, manager_id: int, lang: str,
                   report_url: str) -> Message:
    cur = acc.currency
    msg = Message(_w(lang, "manager_title", name=name))
    msg.heading(_w(lang, "month", month=formatting.month(acc.month_start, lang)))
    if digest.manager is None:
        msg.line(_w(lang, "no_data"))
    else:
        m = digest.manager
        plan = (f"{_w(lang, 'of_plan')}{_kpi(m, 'plan_revenue_amount', lang, cur)} "
                f"({_kpi(m, 'plan_fulfillment_rate', lang, cur)})" if m.get("plan_revenue_amount") is not None
                else _w(lang, "no_plan"))
        msg.item(f"{_label('revenue_amount', lang)}: {_kpi(m, 'revenue_amount', lang, cur)}{plan}")
        targets = {r["kpi"]: r["target"] for r in digest.scorecard}
        for kpi in registry().values():
            if not kpi.is_compared or digest.compared is None or kpi.name not in digest.compared:
                continue
            text = (f"{kpi.label(lang)}: {_w(lang, 'you')} {_kpi(digest.compared, kpi.name, lang, cur)}"
                    f" · {_w(lang, 'team')} {_kpi(digest.team, kpi.name, lang, cur)}")
            if targets.get(kpi.name) is not None:
                text += f" · {_w(lang, 'target')} {formatting.value(targets[kpi.name], kpi.unit, lang, cur)}"
            msg.item(text)
        if digest.scorecard and digest.scorecard[0].get("total_score") is not None:
            msg.line(_w(lang, "score", score=formatting.number(digest.scorecard[0]["total_score"], lang, 0)))
    if digest.week is not None:
        msg.heading(_w(lang, "week", day=formatting.day(digest.week["week_start"], lang)))
        for text in _week_against_plan(digest.week, lang, cur):
            msg.item(text)
    msg.heading(_w(lang, "open_alerts", count=digest.lead_alerts_total))
    if not digest.lead_alerts:
        msg.line(_w(lang, "no_alerts"))
    for alert in digest.lead_alerts:
        msg.item(alert_message(alert, lang, cur), " — ", _alert_link(alert, lang, report_url))
    if digest.lead_alerts_total > len(digest.lead_alerts):
        msg.line(Link(_w(lang, "more", count=digest.lead_alerts_total - len(digest.lead_alerts)),
                      report_link(report_url, "alerts", lang, manager=manager_id)))
    msg.line("")
    msg.line(Link(_w(lang, "report"), report_link(report_url, "manager", lang, manager=manager_id,
                                                   month=acc.month_start)))
    return msg


def alerts_message(acc: Account, alerts: Sequence[Row], lang: str, report_url: str) -> Message:
    msg = Message(_w(lang, "alerts_title", count=len(alerts)))
    for alert in alerts:
        msg.item(alert_message(alert, lang, acc.currency), " — ", _alert_link(alert, lang, report_url))
    return msg
