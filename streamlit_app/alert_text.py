"""One mart_alerts row in words, in Russian or English.

The mart carries parameters, not sentences (alert_type, metric_name, metric_value, comparison_value,
threshold_value, deviation_rate, the period, the lead or manager), so the report can word an alert in
the reader's language. KPI labels and units come from the KPI registry (amokpi.kpis); numbers are
formatted by the report's helpers, imported once below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import cast

from amokpi.kpis import registry

# the report's number formatting (Babel, in the reader's locale): one module for every page
from streamlit_app import formatting
from streamlit_app.labels import Lang

NBSP = "\u00a0"

# measures of the lead rules that are not registry KPIs, with their unit
MEASURE_UNITS = {"waiting_minutes": "minutes", "first_response_minutes": "minutes", "idle_days": "days"}


def _float(value: object) -> float | None:
    return None if formatting.is_missing(value) else float(value)  # type: ignore[arg-type]


def _month(value: object) -> date | None:
    """A month_start as it arrives: a date, a datetime or pandas Timestamp, or an ISO string."""
    if formatting.is_missing(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _months_before(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def _plural_ru(count: float, one: str, few: str, many: str) -> str:
    whole = int(count)
    if whole != count:
        return few  # a fraction reads with the genitive singular: 2,5 звонка
    if whole % 10 == 1 and whole % 100 != 11:
        return one
    if 2 <= whole % 10 <= 4 and not 12 <= whole % 100 <= 14:
        return few
    return many


class _Words:
    """The formatted pieces of one alert, in one language."""

    def __init__(self, alert: Mapping[str, object], lang: Lang, currency: str | None) -> None:
        self.alert, self.lang, self.currency = alert, lang, currency
        self.ru = lang == "ru"

    def get(self, key: str) -> object:
        return self.alert.get(key)

    def quoted(self, text: str) -> str:
        return f"«{text}»" if self.ru else f"“{text}”"

    def name_or_id(self, name_key: str, id_key: str) -> str:
        name = self.get(name_key)
        if not formatting.is_missing(name) and str(name).strip():
            return str(name)
        ident = self.get(id_key)
        return formatting.MISSING if formatting.is_missing(ident) else f"#{int(ident)}"  # type: ignore[call-overload]

    @property
    def manager(self) -> str:
        return self.name_or_id("manager_name", "manager_id")

    @property
    def lead(self) -> str:
        lead_id = self.get("lead_id")
        number = "" if formatting.is_missing(lead_id) else f"#{int(lead_id)}"  # type: ignore[call-overload]
        name = self.get("lead_name")
        if formatting.is_missing(name) or not str(name).strip():
            return number
        return f"{self.quoted(str(name))} ({number})" if number else self.quoted(str(name))

    def whole_or_tenth(self, value: float) -> str:
        return formatting.number(value, self.lang, 0 if value == round(value) else 1)

    def value(self, unit: str, value: object) -> str:
        """A metric's value in its unit: a rate in percent, an amount in the account currency, minutes
        whole, a count or days whole when whole (a team average of 3.2 deals keeps its decimal)."""
        number = _float(value)
        if number is None:
            return formatting.MISSING
        if unit == "rate":
            return formatting.percent(number, self.lang)
        if unit == "money":
            return formatting.money(number, self.currency, self.lang)
        if unit == "minutes":
            return f"{formatting.number(math.floor(number), self.lang)}{NBSP}{'мин' if self.ru else 'min'}"
        if unit == "days":
            if self.ru:
                return f"{self.whole_or_tenth(number)}{NBSP}дн."
            return f"{self.whole_or_tenth(number)}{NBSP}{'day' if number == 1 else 'days'}"
        return self.whole_or_tenth(number)

    def percent(self, fraction: float) -> str:
        """A share of a value as a whole percent, without its sign (the sentence says up or down)."""
        return formatting.percent(abs(fraction), self.lang, 0)

    def month(self, month: date) -> str:
        return formatting.month(month, self.lang)

    def metric(self) -> tuple[str, str, bool]:
        """The metric's label, unit and whether it adds up across managers (a count, an amount)."""
        name = str(self.get("metric_name"))
        kpi = registry().get(name)
        if kpi is not None:
            return kpi.label(self.lang), kpi.unit, kpi.is_additive
        if name in MEASURE_UNITS:
            return name, MEASURE_UNITS[name], True
        raise ValueError(f"alert metric {name!r} is neither a registry KPI nor a known measure")

    def threshold_fraction(self) -> float | None:
        """The rule's percent, from threshold = comparison × (1 − percent)."""
        threshold, comparison = _float(self.get("threshold_value")), _float(self.get("comparison_value"))
        if threshold is None or not comparison:
            return None
        return 1 - threshold / comparison


def _no_first_response(w: _Words) -> str:
    value, sla = w.value("minutes", w.get("metric_value")), w.value("minutes", w.get("threshold_value"))
    waiting = w.get("metric_name") == "waiting_minutes"
    if w.ru:
        if waiting:
            return f"Нет первого ответа по сделке {w.lead} уже {value} при SLA {sla}; ответственный: {w.manager}"
        return f"Первый ответ по сделке {w.lead} через {value} при SLA {sla}; ответственный: {w.manager}"
    if waiting:
        return f"No first response on lead {w.lead} for {value} now (SLA {sla}); responsible: {w.manager}"
    return f"First response on lead {w.lead} came after {value} (SLA {sla}); responsible: {w.manager}"


def _stuck_deal(w: _Words) -> str:
    stage = w.quoted(w.name_or_id("status_name", "status_id"))
    pipeline = w.quoted(w.name_or_id("pipeline_name", "pipeline_id"))
    idle, threshold = w.value("days", w.get("metric_value")), w.value("days", w.get("threshold_value"))
    if w.ru:
        return (f"Сделка {w.lead} на этапе {stage} воронки {pipeline} без активности {idle} "
                f"(порог {threshold}); ответственный: {w.manager}")
    return (f"Lead {w.lead} in stage {stage} of pipeline {pipeline} has had no activity for {idle} "
            f"(threshold {threshold}); responsible: {w.manager}")


def _gap(w: _Words, ru_word: str, en_word: str) -> str:
    """'(ниже на 40 %, порог 30 %)' / '(40 % below, threshold 30 %)'; en_word places the percent ({})."""
    deviation, threshold = _float(w.get("deviation_rate")), w.threshold_fraction()
    parts = []
    if deviation is not None:
        parts.append(f"{ru_word} {w.percent(deviation)}" if w.ru else en_word.format(w.percent(deviation)))
    if threshold is not None:
        parts.append(f"{'порог' if w.ru else 'threshold'} {w.percent(threshold)}")
    return f" ({', '.join(parts)})" if parts else ""


def _below_team_average(w: _Words) -> str:
    label, unit, is_additive = w.metric()
    month = _month(w.get("month_start"))
    value, team = w.value(unit, w.get("metric_value")), w.value(unit, w.get("comparison_value"))
    gap = _gap(w, "ниже на", "{} below")
    if w.ru:
        period = f" за {w.month(month)}" if month else ""
        team_text = "в среднем на менеджера отдела" if is_additive else "по отделу"
        return f"{w.manager}: {w.quoted(label)}{period} — {value} против {team} {team_text}{gap}"
    period = f", {w.month(month)}" if month else ""
    team_text = "per manager on average in the department" if is_additive else "for the department"
    return f"{w.manager} — {label}{period}: {value} vs {team} {team_text}{gap}"


def _month_over_month_drop(w: _Words) -> str:
    label, unit, _ = w.metric()
    month = _month(w.get("month_start"))
    value, previous = w.value(unit, w.get("metric_value")), w.value(unit, w.get("comparison_value"))
    gap = _gap(w, "падение на", "down {}")
    if w.ru:
        if month is None:
            return f"{w.manager}: {w.quoted(label)} — {previous} → {value}{gap}"
        return (f"{w.manager}: {w.quoted(label)} — {previous} за {w.month(_months_before(month, 1))} → "
                f"{value} за {w.month(month)}{gap}")
    if month is None:
        return f"{w.manager}: {label} fell from {previous} to {value}{gap}"
    return (f"{w.manager}: {label} fell from {previous} in {w.month(_months_before(month, 1))} "
            f"to {value} in {w.month(month)}{gap}")


def _high_activity_low_conversion(w: _Words) -> str:
    label, unit, _ = w.metric()
    calls, team_calls = _float(w.get("calls_per_month")), _float(w.get("team_calls_per_month"))
    value, team = w.value(unit, w.get("metric_value")), w.value(unit, w.get("comparison_value"))
    deviation = _float(w.get("deviation_rate"))
    month = _month(w.get("month_start"))
    months = _float(w.get("months_in_window")) or 1
    period = ""
    if month is not None:
        first = _months_before(month, int(months) - 1)
        period = w.month(month) if first == month else f"{w.month(first)} – {w.month(month)}"
    calls_text = ""
    if calls is not None and team_calls:
        calls_whole, team_whole = round(calls), round(team_calls)
        above = w.percent((calls - team_calls) / team_calls)
        if w.ru:
            noun = _plural_ru(calls_whole, "звонок", "звонка", "звонков")
            calls_text = (f"{formatting.number(calls_whole, w.lang)} {noun} в месяц против "
                          f"{formatting.number(team_whole, w.lang)} в среднем на менеджера отдела (+{above}), но ")
        else:
            noun = "call" if calls_whole == 1 else "calls"
            calls_text = (f"{formatting.number(calls_whole, w.lang)} {noun} a month vs "
                          f"{formatting.number(team_whole, w.lang)} per manager on average in the department "
                          f"(+{above}), but ")
    below = f" ({'ниже на ' if w.ru else ''}{w.percent(deviation)}{'' if w.ru else ' below'})" if deviation else ""
    if w.ru:
        window = f" за {period}" if period else ""
        return (f"{w.manager}: {calls_text}{w.quoted(label)} — {value} против {team} по отделу{below}{window}: "
                "много активности, мало результата — нужен разбор звонков и обучение")
    window = f" over {period}" if period else ""
    return (f"{w.manager}: {calls_text}{label}: {value} vs {team} for the department{below}{window}: "
            "lots of activity, few results — the calls need reviewing and the manager coaching")


RENDERERS: dict[str, Callable[[_Words], str]] = {
    "no_first_response": _no_first_response,
    "stuck_deal": _stuck_deal,
    "below_team_average": _below_team_average,
    "month_over_month_drop": _month_over_month_drop,
    "high_activity_low_conversion": _high_activity_low_conversion,
}


def alert_message(alert: Mapping[str, object], lang: str, currency: str | None = None) -> str:
    """One mart_alerts row (a mapping of its columns) as a sentence in `lang` ('ru' or 'en');
    `currency` is the account's (amounts show its symbol)."""
    if lang not in ("ru", "en"):
        raise ValueError(f"alert_message: language must be 'ru' or 'en', not {lang!r}")
    alert_type = str(alert.get("alert_type"))
    if alert_type not in RENDERERS:
        raise ValueError(f"alert_message: unknown alert_type {alert_type!r}")
    return RENDERERS[alert_type](_Words(alert, cast(Lang, lang), currency))
