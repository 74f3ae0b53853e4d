"""streamlit_app.alert_text: every alert type in Russian and English from the mart's parameters —
labels from the KPI registry, rates, amounts and counts formatted by the report's helpers, nothing
cut off and no raw keys. Fast: no dbt, no warehouse."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from amokpi.kpis import registry
from streamlit_app.alert_text import alert_message

NBSP = "\u00a0"
DETECTED = datetime(2026, 4, 10, 9, 30)


def lead_alert(**values: object) -> dict[str, object]:
    return {"account_id": 1, "manager_id": 100, "manager_name": "Анна", "lead_id": 11, "lead_name": "Окна",
            "pipeline_id": 10, "pipeline_name": "Продажи", "status_id": 2, "status_name": "Переговоры",
            "month_start": None, "months_in_window": None, "comparison_value": None, "deviation_rate": None,
            "calls_per_month": None, "team_calls_per_month": None, "detected_at": DETECTED, **values}


def manager_alert(**values: object) -> dict[str, object]:
    return {"account_id": 1, "manager_id": 7, "manager_name": "Борис", "lead_id": None, "lead_name": None,
            "pipeline_id": None, "pipeline_name": None, "status_id": None, "status_name": None,
            "month_start": date(2026, 3, 1), "months_in_window": 1, "calls_per_month": None,
            "team_calls_per_month": None, "detected_at": DETECTED, **values}


WAITING = lead_alert(alert_type="no_first_response", severity="high", metric_name="waiting_minutes",
                     metric_value=16.7, threshold_value=15.0)
LATE = lead_alert(alert_type="no_first_response", severity="medium", metric_name="first_response_minutes",
                  metric_value=20.0, threshold_value=15.0)
STUCK = lead_alert(alert_type="stuck_deal", severity="medium", metric_name="idle_days", metric_value=15.0,
                   threshold_value=14.0)
BELOW_RATE = manager_alert(alert_type="below_team_average", severity="medium", metric_name="win_rate",
                           metric_value=0.25, comparison_value=0.5, threshold_value=0.35, deviation_rate=-0.5)
BELOW_COUNT = manager_alert(alert_type="below_team_average", severity="medium", metric_name="deals_won_count",
                            metric_value=3.0, comparison_value=3.2, threshold_value=2.24, deviation_rate=-0.0625)
DROP_MONEY = manager_alert(alert_type="month_over_month_drop", severity="high", metric_name="revenue_amount",
                           metric_value=400.0, comparison_value=1250000.0, threshold_value=875000.0,
                           deviation_rate=-0.99968)
HIGH_ACTIVITY = manager_alert(alert_type="high_activity_low_conversion", severity="high",
                              metric_name="call_to_deal_rate", metric_value=1 / 300, comparison_value=51 / 3900,
                              threshold_value=51 / 3900 * 0.7, deviation_rate=(1 / 300) / (51 / 3900) - 1,
                              months_in_window=3, calls_per_month=300.0, team_calls_per_month=1300 / 7)
ALL = [WAITING, LATE, STUCK, BELOW_RATE, BELOW_COUNT, DROP_MONEY, HIGH_ACTIVITY]


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("alert", ALL, ids=lambda a: f"{a['alert_type']}-{a['metric_name']}")
def test_every_alert_reads_as_a_sentence_without_raw_keys(alert: dict[str, object], lang: str) -> None:
    text = alert_message(alert, lang, "RUB")
    assert text and text == text.strip() and "\n" not in text
    assert str(alert["alert_type"]) not in text and str(alert["metric_name"]) not in text
    for raw in ("None", "nan", "NaT", "{", "}", "«»", "“”", "()"):
        assert raw not in text, (raw, text)
    # the manager is always named
    assert str(alert["manager_name"]) in text


def test_first_response_in_russian_and_english() -> None:
    assert alert_message(WAITING, "ru") == (
        f"Нет первого ответа по сделке «Окна» (#11) уже 16{NBSP}мин при SLA 15{NBSP}мин; ответственный: Анна")
    assert alert_message(WAITING, "en") == (
        f"No first response on lead “Окна” (#11) for 16{NBSP}min now (SLA 15{NBSP}min); responsible: Анна")
    assert alert_message(LATE, "ru") == (
        f"Первый ответ по сделке «Окна» (#11) через 20{NBSP}мин при SLA 15{NBSP}мин; ответственный: Анна")
    assert alert_message(LATE, "en") == (
        f"First response on lead “Окна” (#11) came after 20{NBSP}min (SLA 15{NBSP}min); responsible: Анна")


def test_stuck_deal_names_stage_and_pipeline() -> None:
    assert alert_message(STUCK, "ru") == (
        f"Сделка «Окна» (#11) на этапе «Переговоры» воронки «Продажи» без активности 15{NBSP}дн. "
        f"(порог 14{NBSP}дн.); ответственный: Анна")
    assert alert_message(STUCK, "en") == (
        f"Lead “Окна” (#11) in stage “Переговоры” of pipeline “Продажи” has had no activity for 15{NBSP}days "
        f"(threshold 14{NBSP}days); responsible: Анна")
    # a fraction of a day keeps one decimal; a missing name falls back to the id, never to an empty «»
    unnamed = {**STUCK, "lead_name": None, "status_name": None, "metric_value": 15.46}
    assert alert_message(unnamed, "ru").startswith(f"Сделка #11 на этапе «#2» воронки «Продажи» без активности "
                                                   f"15,5{NBSP}дн.")
    assert "for 15.5\u00a0days" in alert_message(unnamed, "en")


def test_a_rate_below_the_department() -> None:
    assert alert_message(BELOW_RATE, "ru") == (
        f"Борис: «Доля выигранных» за март 2026 — 25,0{NBSP}% против 50,0{NBSP}% по отделу "
        f"(ниже на 50{NBSP}%, порог 30{NBSP}%)")
    assert alert_message(BELOW_RATE, "en") == (
        "Борис — Win rate, March 2026: 25.0% vs 50.0% for the department "
        "(50% below, threshold 30%)")


def test_a_count_below_the_per_manager_average_keeps_the_averages_decimal() -> None:
    assert alert_message(BELOW_COUNT, "ru") == (
        f"Борис: «Выиграно сделок» за март 2026 — 3 против 3,2 в среднем на менеджера отдела "
        f"(ниже на 6{NBSP}%, порог 30{NBSP}%)")
    assert alert_message(BELOW_COUNT, "en") == (
        "Борис — Deals won, March 2026: 3 vs 3.2 per manager on average in the department "
        "(6% below, threshold 30%)")


def test_a_money_drop_from_the_previous_month() -> None:
    assert alert_message(DROP_MONEY, "ru", "RUB") == (
        f"Борис: «Выручка» — 1{NBSP}250{NBSP}000{NBSP}₽ за февраль 2026 → 400{NBSP}₽ за март 2026 "
        f"(падение на 100{NBSP}%, порог 30{NBSP}%)")
    assert alert_message(DROP_MONEY, "en", "USD") == (
        "Борис: Revenue fell from $1,250,000 in February 2026 to $400 in March 2026 "
        "(down 100%, threshold 30%)")


def test_high_activity_low_conversion_over_the_window() -> None:
    assert alert_message(HIGH_ACTIVITY, "ru") == (
        f"Борис: 300 звонков в месяц против 186 в среднем на менеджера отдела (+62{NBSP}%), но «Звонок → сделка» — "
        f"0,3{NBSP}% против 1,3{NBSP}% по отделу (ниже на 75{NBSP}%) за январь 2026 – март 2026: много активности, "
        "мало результата — нужен разбор звонков и обучение")
    assert alert_message(HIGH_ACTIVITY, "en") == (
        "Борис: 300 calls a month vs 186 per manager on average in the department (+62%), but Call → deal: "
        "0.3% vs 1.3% for the department (75% below) over January 2026 – March 2026: lots of "
        "activity, few results — the calls need reviewing and the manager coaching")
    # win_rate, Russian plural of a call count, a one-month window
    one = {**HIGH_ACTIVITY, "metric_name": "win_rate", "calls_per_month": 22.0, "months_in_window": 1}
    text = alert_message(one, "ru")
    assert text.startswith("Борис: 22 звонка в месяц") and "«Доля выигранных»" in text and "за март 2026:" in text


def test_labels_come_from_the_registry() -> None:
    for alert in (BELOW_RATE, BELOW_COUNT, DROP_MONEY, HIGH_ACTIVITY):
        kpi = registry()[str(alert["metric_name"])]
        assert kpi.label_ru in alert_message(alert, "ru") and kpi.label_en in alert_message(alert, "en")


def test_a_pandas_row_with_missing_values_renders() -> None:
    pd = pytest.importorskip("pandas")
    row = pd.DataFrame([{**BELOW_RATE, "month_start": pd.Timestamp("2026-03-01"), "lead_id": math.nan}])
    assert "март 2026" in alert_message(row.to_dict("records")[0], "ru")
    row = pd.DataFrame([{**STUCK, "lead_name": math.nan}]).to_dict("records")[0]
    assert alert_message(row, "en").startswith("Lead #11 in stage")


def test_unknown_language_type_or_metric_is_an_error() -> None:
    with pytest.raises(ValueError, match="language"):
        alert_message(STUCK, "de")
    with pytest.raises(ValueError, match="alert_type"):
        alert_message({**STUCK, "alert_type": "mystery"}, "en")
    with pytest.raises(ValueError, match="metric"):
        alert_message({**BELOW_RATE, "metric_name": "mystery_rate"}, "en")
