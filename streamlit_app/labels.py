"""Russian and English labels plus display formatting for the report (no business logic)."""

from __future__ import annotations

import math
from datetime import date
from typing import Literal

Lang = Literal["ru", "en"]
LANGUAGES: dict[Lang, str] = {"ru": "Русский", "en": "English"}
PAGES = ("overview", "funnel", "managers")

# One entry per mart column or UI string; keys missing from a language fall back to the key itself.
LABELS: dict[Lang, dict[str, str]] = {
    "ru": {
        "title": "Продажи amoCRM",
        "language": "Язык / Language",
        "page": "Раздел",
        "overview": "Обзор",
        "funnel": "Воронка",
        "managers": "Менеджеры",
        "month": "Месяц",
        "pipeline": "Воронка продаж",
        "account": "Аккаунт",
        "revenue_by_month": "Выручка по месяцам",
        "calls_vs_deals": "Звонки и выигранные сделки по менеджерам",
        "no_warehouse": (
            "Файл витрин не найден: `{path}`. Запустите конвейер (`amokpi run`), чтобы собрать "
            "и опубликовать витрины, или укажите путь к файлу в переменной AMOKPI_SERVING."
        ),
        "no_marts": (
            "В файле `{path}` нет витрин (схема `marts`, не хватает: {missing}). "
            "Запустите `amokpi run`, чтобы собрать их."
        ),
        "unreadable": "Не удалось открыть файл витрин `{path}`: {error}",
        "no_data": "В витринах пока нет данных. Запустите загрузку и сборку (`amokpi run`).",
        "no_month_data": "Нет данных за {month}. Выберите другой месяц.",
        "no_funnel_data": "Нет движения лидов по воронке «{pipeline}» за {month}.",
        "no_pipelines": "В витрине воронки нет ни одной воронки продаж.",
        "no_manager_data": "Нет показателей менеджеров за {month}.",
        "no_previous": "нет данных за прошлый месяц",
        "pp": "п.п.",
        # mart columns
        "revenue_amount": "Выручка",
        "deals_won_count": "Выиграно сделок",
        "avg_deal_amount": "Средний чек",
        "win_rate": "Доля выигранных",
        "lead_conversion_rate": "Конверсия лидов",
        "calls_count": "Звонки",
        "meetings_count": "Встречи",
        "first_response_minutes_median": "Первый ответ (медиана), мин",
        "new_leads_count": "Новые лиды",
        "call_to_meeting_rate": "Звонок → встреча",
        "lead_processing_hours": "Обработка лида, ч",
        "time_to_close_days": "Цикл сделки, дн",
        "manager_name": "Менеджер",
        "group_name": "Отдел",
        "status_name": "Этап",
        "stage_role": "Тип этапа",
        "leads_entered_count": "Вошло лидов",
        "leads_advanced_count": "Прошло дальше",
        "leads_lost_count": "Потеряно",
        "stage_conversion_rate": "Конверсия этапа",
        "median_hours_in_stage": "Время на этапе (медиана), ч",
    },
    "en": {
        "title": "amoCRM sales",
        "language": "Язык / Language",
        "page": "Page",
        "overview": "Overview",
        "funnel": "Funnel",
        "managers": "Managers",
        "month": "Month",
        "pipeline": "Pipeline",
        "account": "Account",
        "revenue_by_month": "Revenue by month",
        "calls_vs_deals": "Calls vs won deals per manager",
        "no_warehouse": (
            "The marts file was not found: `{path}`. Run the pipeline (`amokpi run`) to build and "
            "publish the marts, or point the AMOKPI_SERVING environment variable at the file."
        ),
        "no_marts": (
            "The file `{path}` holds no marts (schema `marts`, missing: {missing}). "
            "Run `amokpi run` to build them."
        ),
        "unreadable": "Could not open the marts file `{path}`: {error}",
        "no_data": "The marts hold no data yet. Run the load and build (`amokpi run`).",
        "no_month_data": "No data for {month}. Pick another month.",
        "no_funnel_data": "No leads moved through the “{pipeline}” pipeline in {month}.",
        "no_pipelines": "The funnel mart holds no pipelines.",
        "no_manager_data": "No manager figures for {month}.",
        "no_previous": "no data for the previous month",
        "pp": "pp",
        "revenue_amount": "Revenue",
        "deals_won_count": "Deals won",
        "avg_deal_amount": "Average deal",
        "win_rate": "Win rate",
        "lead_conversion_rate": "Lead conversion",
        "calls_count": "Calls",
        "meetings_count": "Meetings",
        "first_response_minutes_median": "First response (median), min",
        "new_leads_count": "New leads",
        "call_to_meeting_rate": "Call → meeting",
        "lead_processing_hours": "Lead processing, h",
        "time_to_close_days": "Time to close, days",
        "manager_name": "Manager",
        "group_name": "Team",
        "status_name": "Stage",
        "stage_role": "Stage type",
        "leads_entered_count": "Leads entered",
        "leads_advanced_count": "Advanced",
        "leads_lost_count": "Lost",
        "stage_conversion_rate": "Stage conversion",
        "median_hours_in_stage": "Time in stage (median), h",
    },
}

MONTHS: dict[Lang, tuple[str, ...]] = {
    "ru": ("январь", "февраль", "март", "апрель", "май", "июнь",
           "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"),
    "en": ("January", "February", "March", "April", "May", "June",
           "July", "August", "September", "October", "November", "December"),
}

# Funnel roles of the stage_roles seed (plus won/lost); an unknown role is shown as it is.
STAGE_ROLES: dict[Lang, dict[str, str]] = {
    "ru": {
        "incoming": "Входящие", "first_contact": "Первый контакт", "qualified": "Квалификация",
        "presentation": "Презентация", "proposal": "Предложение", "negotiation": "Переговоры",
        "decision": "Принятие решения", "contract": "Договор", "won": "Успех", "lost": "Отказ",
    },
    "en": {
        "incoming": "Incoming", "first_contact": "First contact", "qualified": "Qualified",
        "presentation": "Presentation", "proposal": "Proposal", "negotiation": "Negotiation",
        "decision": "Decision", "contract": "Contract", "won": "Won", "lost": "Lost",
    },
}

CURRENCY_SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "UAH": "₴", "BYN": "Br"}
MISSING = "—"


def t(lang: Lang, key: str, **fmt: object) -> str:
    text = LABELS[lang].get(key, key)
    return text.format(**fmt) if fmt else text


def month_label(lang: Lang, month: date) -> str:
    return f"{MONTHS[lang][month.month - 1]} {month.year}"


def stage_role_label(lang: Lang, role: object) -> str:
    if _missing(role):
        return MISSING
    return STAGE_ROLES[lang].get(str(role), str(role))


def currency_symbol(currency: str | None) -> str:
    return CURRENCY_SYMBOLS.get(currency or "", currency or "")


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _group(text: str, lang: Lang) -> str:
    # Python formats "1,234.5"; Russian uses a (non-breaking) space for thousands and a comma for decimals.
    if lang == "ru":
        return text.replace(",", "\u00a0").replace(".", ",")
    return text


def fmt_number(value: object, lang: Lang, decimals: int = 0, signed: bool = False) -> str:
    if _missing(value):
        return MISSING
    sign = "+" if signed else ""
    return _group(f"{float(value):{sign},.{decimals}f}", lang)  # type: ignore[arg-type]


def fmt_money(value: object, currency: str | None, lang: Lang, signed: bool = False) -> str:
    if _missing(value):
        return MISSING
    return f"{fmt_number(value, lang, 0, signed)}\u00a0{currency_symbol(currency)}".strip()


def fmt_rate(value: object, lang: Lang) -> str:
    """Rates arrive as fractions 0..1 from the marts; only the display is scaled."""
    if _missing(value):
        return MISSING
    return f"{fmt_number(float(value) * 100, lang, 1)}\u00a0%"  # type: ignore[arg-type]
