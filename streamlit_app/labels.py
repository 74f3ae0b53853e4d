"""Russian and English labels plus display formatting for the report (no business logic)."""

from __future__ import annotations

import math
from datetime import date
from typing import Literal

Lang = Literal["ru", "en"]
LANGUAGES: dict[Lang, str] = {"ru": "Русский", "en": "English"}
PAGES = ("overview", "funnel", "managers", "manager", "scorecard", "alerts", "quality")

# One entry per mart column or UI string; keys missing from a language fall back to the key itself.
LABELS: dict[Lang, dict[str, str]] = {
    "ru": {
        "title": "Продажи amoCRM",
        "language": "Язык / Language",
        "page": "Раздел",
        "overview": "Обзор",
        "funnel": "Воронка",
        "managers": "Менеджеры",
        "manager": "Менеджер: детали",
        "alerts_month": "Сигналы по менеджерам — за {month}, последний полный месяц до выбранного.",
        "tool_dbt": "dbt: тесты",
        "tool_gx": "Great Expectations",
        "checks_summary": "{tool}: не пройдено / всего проверок",
        "warned": "предупреждений: {n}",
        "quarantine": "Карантин: записи, нарушившие правила",
        "quarantine_empty": "В карантине нет записей: все загруженные данные прошли правила.",
        "quarantine_note": "Записей в карантине: {n} (они сохранены, но не попадают в показатели).",
        "checks_count": "Проверок",
        "failed_count": "Не пройдено",
        "warned_count": "Предупреждений",
        "checked_at": "Время проверки",
        "run_id": "Запуск",
        "tool": "Инструмент",
        "role_junior": "Младший менеджер",
        "role_senior": "Старший менеджер",
        "role_team_lead": "Руководитель группы",
        "main_pipeline": "Воронка не выбрана в фильтре — показана основная: «{pipeline}».",
        "all_pipelines_note": "Показатели менеджеров считаются по всем воронкам: "
                              "фильтр «{pipeline}» здесь не применяется.",
        "pipeline_leads_created_count": "Лиды в воронке",
        "pipeline_deals_won_count": "Выиграно в воронке",
        "pipeline_revenue_amount": "Выручка воронки",
        "scorecard": "Скоринг",
        "alerts": "Сигналы",
        "quality": "Качество данных",
        "team": "Отдел",
        "manager_filter": "Менеджер",
        "all": "Все",
        "download_csv": "Скачать CSV",
        "vs_plan": "к плану",
        "plan_fulfillment_rate": "Выполнение плана",
        "plan_revenue_amount": "План по выручке",
        "plan_deals_count": "План по сделкам",
        "no_plan": "план не задан",
        "scope_department": "Весь отдел продаж",
        "scope_team": "Отдел: {team}",
        "scope_manager": "Менеджер: {manager}",
        "team_rates_note": (
            "Для отдела показаны суммируемые показатели; доли и медианы — по "
            "менеджерам или по всему отделу продаж."
        ),
        "pipeline_section": "Воронка «{pipeline}» за месяц",
        "leads_created_count": "Создано лидов",
        "deals_lost_count": "Проиграно сделок",
        "avg_sales_cycle_days": "Цикл продажи, дн",
        "open_leads_count": "Открытые лиды",
        "pipeline_open_amount": "Сумма открытых сделок",
        "funnel_chart": "Воронка: сколько лидов дошло до этапа",
        "stage_table": "Конверсия по этапам",
        "dropoff": "Движение и отвал по этапам",
        "time_in_stage": "Время на этапе, ч",
        "loss_reasons": "Причины отказа",
        "loss_reasons_scope": "Причины отказа — по всей воронке: витрина не делится по менеджерам.",
        "no_loss_reasons": "За {month} в этой воронке нет проигранных сделок с причиной отказа.",
        "team_funnel_note": (
            "Для отдела показаны суммы по менеджерам; конверсии и время — при "
            "выборе менеджера или всего отдела продаж."
        ),
        "leaderboard": "Рейтинг менеджеров",
        "comparison": "Сравнение с командой (последняя строка — среднее по команде)",
        "team_average": "Среднее по команде",
        "drill_default": "Менеджер не выбран в фильтре — показан лидер месяца: {manager}.",
        "trend_revenue": "Выручка и план по месяцам",
        "trend_activity": "Активность по неделям",
        "monthly_kpis": "Показатели по месяцам",
        "heatmap": "Выполнение целей: менеджер × KPI",
        "scorecard_matrix": "Матрица скоринга (выполнение цели, итоговый балл)",
        "scorecard_detail": "Скоринг: факт, цель, вес",
        "no_scorecard": "Нет скоринга менеджеров за {month} для выбранных фильтров.",
        "no_alerts": "Сигналов нет для выбранных фильтров ({month}). Это хорошая новость.",
        "alerts_total": "Всего сигналов",
        "quality_missing": (
            "Витрина качества данных (`marts.data_quality_runs`) пока не собрана: результаты dbt-тестов и "
            "проверок Great Expectations появятся здесь после сборки, в которой она есть."
        ),
        "quality_empty": "Витрина качества данных пуста: проверки ещё не запускались.",
        "quality_latest": "Последний запуск проверок",
        "quality_history": "История проверок",
        "checks_total": "Проверок",
        "checks_failed": "Не пройдено",
        "last_load": "Последняя загрузка",
        "last_load_missing": "нет сведений о загрузках",
        "timezone_note": "Время указано в часовом поясе аккаунта: {tz}.",
        "no_data_filters": "Нет данных для выбранных фильтров ({month}). Снимите фильтр отдела или менеджера.",
        "no_optional_mart": "Витрина `{mart}` ещё не собрана — раздел появится после сборки.",
        "kpi": "KPI",
        "direction": "Направление",
        "weight": "Вес",
        "target": "Цель",
        "actual": "Факт",
        "attainment": "Выполнение",
        "weighted_points": "Баллы",
        "total_score": "Итоговый балл",
        "score_rank": "Место",
        "is_kpi_met": "KPI выполнены",
        "kpi_met_rate": "Доля выполненных KPI",
        "scorecard_role": "Роль",
        "severity": "Важность",
        "alert_type": "Тип сигнала",
        "lead_id": "Сделка",
        "pipeline_name": "Воронка",
        "metric_name": "Показатель",
        "metric_value": "Значение",
        "threshold_value": "Порог",
        "detected_at": "Обнаружено",
        "message": "Сообщение",
        "month_start": "Месяц",
        "week_start": "Неделя",
        "loss_reason_name": "Причина отказа",
        "loss_reason_share": "Доля причины",
        "cohort_leads_count": "Лидов в когорте",
        "leads_reached_count": "Дошло до этапа",
        "cumulative_conversion_rate": "Сквозная конверсия",
        "p90_hours_in_stage": "Время на этапе (p90), ч",
        "proposals_sent_count": "Отправлено КП",
        "tasks_completed_count": "Выполнено задач",
        "no_first_response": "Нет первого ответа",
        "stuck_deal": "Зависшая сделка",
        "below_team_average": "Ниже среднего по команде",
        "month_over_month_drop": "Падение к прошлому месяцу",
        "high_activity_low_conversion": "Много активности, мало сделок",
        "high": "высокая",
        "medium": "средняя",
        "low": "низкая",
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
        "manager": "Manager drill-down",
        "alerts_month": "Manager alerts are for {month}, the newest complete month up to the one chosen.",
        "tool_dbt": "dbt tests",
        "tool_gx": "Great Expectations",
        "checks_summary": "{tool}: failed / checks",
        "warned": "{n} warnings",
        "quarantine": "Quarantine: records that broke a rule",
        "quarantine_empty": "Nothing is quarantined: every loaded record passed the rules.",
        "quarantine_note": "{n} records in quarantine (kept, but left out of the KPIs).",
        "checks_count": "Checks",
        "failed_count": "Failed",
        "warned_count": "Warnings",
        "checked_at": "Checked at",
        "run_id": "Run",
        "tool": "Tool",
        "role_junior": "Junior",
        "role_senior": "Senior",
        "role_team_lead": "Team lead",
        "main_pipeline": "No pipeline picked in the filter: showing the main one, “{pipeline}”.",
        "all_pipelines_note": "Manager KPIs cover every pipeline: the “{pipeline}” filter does not apply here.",
        "pipeline_leads_created_count": "Pipeline leads",
        "pipeline_deals_won_count": "Pipeline deals won",
        "pipeline_revenue_amount": "Pipeline revenue",
        "scorecard": "Scorecard",
        "alerts": "Alerts",
        "quality": "Data quality",
        "team": "Team",
        "manager_filter": "Manager",
        "all": "All",
        "download_csv": "Download CSV",
        "vs_plan": "vs plan",
        "plan_fulfillment_rate": "Plan fulfilment",
        "plan_revenue_amount": "Revenue plan",
        "plan_deals_count": "Deals plan",
        "no_plan": "no plan set",
        "scope_department": "Whole sales department",
        "scope_team": "Team: {team}",
        "scope_manager": "Manager: {manager}",
        "team_rates_note": (
            "A team shows the KPIs that add up; rates and medians are shown per "
            "manager or for the whole department."
        ),
        "pipeline_section": "Pipeline “{pipeline}” this month",
        "leads_created_count": "Leads created",
        "deals_lost_count": "Deals lost",
        "avg_sales_cycle_days": "Sales cycle, days",
        "open_leads_count": "Open leads",
        "pipeline_open_amount": "Open pipeline amount",
        "funnel_chart": "Funnel: leads that reached each stage",
        "stage_table": "Stage conversion",
        "dropoff": "Movement and drop-off by stage",
        "time_in_stage": "Time in stage, h",
        "loss_reasons": "Loss reasons",
        "loss_reasons_scope": "Loss reasons cover the whole pipeline: the mart has no per-manager split.",
        "no_loss_reasons": "No deals were lost with a reason in this pipeline in {month}.",
        "team_funnel_note": (
            "A team shows sums over its managers; conversions and times appear for "
            "one manager or the whole department."
        ),
        "leaderboard": "Manager leaderboard",
        "comparison": "Side by side with the team (last row: team average)",
        "team_average": "Team average",
        "drill_default": "No manager picked in the filter: showing the month's leader, {manager}.",
        "trend_revenue": "Revenue and plan by month",
        "trend_activity": "Activity by week",
        "monthly_kpis": "KPIs by month",
        "heatmap": "Target attainment: manager × KPI",
        "scorecard_matrix": "Scorecard matrix (attainment, total score)",
        "scorecard_detail": "Scorecard: actual, target, weight",
        "no_scorecard": "No manager scorecard for {month} with these filters.",
        "no_alerts": "No alerts for these filters ({month}). Good news.",
        "alerts_total": "Alerts",
        "quality_missing": (
            "The data-quality mart (`marts.data_quality_runs`) is not available yet: dbt test and Great "
            "Expectations results appear here once a build includes it."
        ),
        "quality_empty": "The data-quality mart is empty: no checks have run yet.",
        "quality_latest": "Latest check run",
        "quality_history": "Check history",
        "checks_total": "Checks",
        "checks_failed": "Failed",
        "last_load": "Last load",
        "last_load_missing": "no load recorded",
        "timezone_note": "Times are in the account timezone: {tz}.",
        "no_data_filters": "No data for these filters ({month}). Clear the team or manager filter.",
        "no_optional_mart": "The mart `{mart}` is not built yet; this section appears after a build that has it.",
        "kpi": "KPI",
        "direction": "Direction",
        "weight": "Weight",
        "target": "Target",
        "actual": "Actual",
        "attainment": "Attainment",
        "weighted_points": "Points",
        "total_score": "Total score",
        "score_rank": "Rank",
        "is_kpi_met": "KPIs met",
        "kpi_met_rate": "KPIs met share",
        "scorecard_role": "Role",
        "severity": "Severity",
        "alert_type": "Alert",
        "lead_id": "Lead",
        "pipeline_name": "Pipeline",
        "metric_name": "Metric",
        "metric_value": "Value",
        "threshold_value": "Threshold",
        "detected_at": "Detected",
        "message": "Message",
        "month_start": "Month",
        "week_start": "Week",
        "loss_reason_name": "Loss reason",
        "loss_reason_share": "Reason share",
        "cohort_leads_count": "Cohort leads",
        "leads_reached_count": "Reached stage",
        "cumulative_conversion_rate": "Cumulative conversion",
        "p90_hours_in_stage": "Time in stage (p90), h",
        "proposals_sent_count": "Proposals sent",
        "tasks_completed_count": "Tasks completed",
        "no_first_response": "No first response",
        "stuck_deal": "Stuck deal",
        "below_team_average": "Below team average",
        "month_over_month_drop": "Drop vs previous month",
        "high_activity_low_conversion": "High activity, low conversion",
        "high": "high",
        "medium": "medium",
        "low": "low",
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
