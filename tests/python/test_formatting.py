"""The report's formatting (Babel) and its KPI registry lookups, without a warehouse."""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
import pytest

from amokpi.kpis import UNITS, registry
from streamlit_app import columns, formatting
from streamlit_app.labels import LABELS

NBSP = "\u00a0"


def test_numbers() -> None:
    assert formatting.number(8052000, "ru") == f"8{NBSP}052{NBSP}000"
    assert formatting.number(8052000, "en") == "8,052,000"
    assert formatting.number(1234.56, "ru", 1) == f"1{NBSP}234,6"
    assert formatting.number(1234.56, "en", 1) == "1,234.6"
    assert formatting.number(12, "en", signed=True) == "+12"
    assert formatting.number(-12, "ru", signed=True) == "-12"  # ASCII, so Streamlit draws the arrow down
    assert formatting.number(0, "en", signed=True) == "0"


def test_money() -> None:
    assert formatting.money(8052000, "RUB", "ru") == f"8{NBSP}052{NBSP}000{NBSP}₽"
    assert formatting.money(8052000, "RUB", "en") == f"RUB{NBSP}8,052,000"  # Babel's English symbol for RUB
    assert formatting.money(8052000.4, "USD", "en") == "$8,052,000"
    assert formatting.money(-70000, "RUB", "ru", signed=True) == f"-70{NBSP}000{NBSP}₽"
    assert formatting.money(70000, "RUB", "en", signed=True) == f"+RUB{NBSP}70,000"
    assert formatting.money(1500, None, "ru") == f"1{NBSP}500"  # no currency known: the plain amount


def test_percent() -> None:
    assert formatting.percent(0.14, "ru") == f"14,0{NBSP}%"
    assert formatting.percent(0.14, "en") == "14.0%"
    assert formatting.percent(1.5, "en") == "150.0%"
    assert formatting.points(0.012, "ru", "п.п.") == f"+1,2{NBSP}п.п."
    assert formatting.points(-0.091, "en", "pp") == f"-9.1{NBSP}pp"


def test_months_and_times() -> None:
    assert formatting.month(date(2026, 10, 1), "ru") == "октябрь 2026"
    assert formatting.month(date(2026, 10, 1), "en") == "October 2026"
    assert formatting.month(pd.Timestamp("2026-05-01"), "ru") == "май 2026"
    assert formatting.day(date(2026, 10, 12), "en") == "Oct 12, 2026"
    # CLDR puts a narrow no-break space before «г.»
    assert formatting.moment(datetime(2026, 10, 12, 14, 5), "ru") == "12 окт. 2026\u202fг., 14:05"
    assert formatting.moment(datetime(2026, 10, 12, 14, 5), "en").startswith("Oct 12, 2026, 2:05")


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, pd.NaT, float("nan")])
def test_missing_values_read_as_a_dash(missing: object) -> None:
    for lang in ("ru", "en"):
        assert formatting.number(missing, lang) == formatting.MISSING
        assert formatting.money(missing, "RUB", lang) == formatting.MISSING
        assert formatting.percent(missing, lang) == formatting.MISSING
        assert formatting.month(missing, lang) == formatting.MISSING
        assert formatting.moment(missing, lang) == formatting.MISSING
        for kind in (*UNITS, "number", "id", "flag", "month", "date", "datetime", "text"):
            assert formatting.value(missing, kind, lang, "RUB") == formatting.MISSING


def test_value_by_kind() -> None:
    assert formatting.value(0.25, "rate", "ru") == f"25,0{NBSP}%"
    assert formatting.value(12.34, "minutes", "en") == "12.3"
    assert formatting.value(529, "count", "ru") == "529"
    assert formatting.value(31234567.0, "id", "ru") == "31234567"  # a lead number is not grouped
    assert formatting.value(True, "flag", "en") == "✓"


def test_table_keeps_raw_values_under_display_text() -> None:
    frame = pd.DataFrame({"revenue_amount": [1200.0, None], "win_rate": [0.5, None], "kpi": ["win_rate", "calls_count"],
                          "target": [0.3, 200.0], "note": ["a", None]})
    units = frame["kpi"].map(lambda k: columns.kind(k))
    styler = formatting.table_styler(frame, {**columns.kinds(list(frame.columns)), "target": units}, "ru", "RUB")
    # Styler keeps a display function per cell; Streamlit sends their text along with the raw frame
    text = {(r, c): styler._display_funcs[(r, c)](frame.iat[r, c]) for r in range(2) for c in range(5)}
    assert text[(0, 0)] == f"1{NBSP}200{NBSP}₽" and text[(1, 0)] == formatting.MISSING
    assert text[(0, 1)] == f"50,0{NBSP}%"
    assert text[(0, 3)] == f"30,0{NBSP}%" and text[(1, 3)] == "200"  # each row's target in its KPI's unit
    assert text[(1, 4)] == formatting.MISSING
    assert styler.data is frame  # sorting and the CSV keep the raw values


# ---------------------------------------------------------------- the KPI registry, as the report reads it


def test_every_registry_kpi_has_both_labels_and_a_known_unit() -> None:
    for name, kpi in registry().items():
        assert kpi.unit in UNITS, name
        for lang in ("ru", "en"):
            assert columns.label(name, lang).strip() and columns.label(name, lang) != name, (name, lang)
        assert columns.kind(name) == kpi.unit
        assert columns.delta_color(name) == {"up": "normal", "down": "inverse", "none": "off"}[kpi.direction]
    assert columns.label("revenue_amount", "ru") == "Выручка" and columns.label("revenue_amount", "en") == "Revenue"


def test_labels_keep_only_words_that_are_not_kpis() -> None:
    for lang, words in LABELS.items():
        assert not set(words) & set(registry()), lang  # a KPI label has one home: the registry


def test_additive_team_columns_come_from_the_registry() -> None:
    from streamlit_app import data

    assert data.ADDITIVE_COLUMNS and all(registry()[c].is_additive for c in data.ADDITIVE_COLUMNS)
    assert "win_rate" not in data.ADDITIVE_COLUMNS and "revenue_amount" in data.ADDITIVE_COLUMNS


def test_an_empty_figure_says_why_from_the_registry() -> None:
    from streamlit_app.columns import gap_reason, label

    assert gap_reason("avg_deal_amount", "ru") == f"{label('deals_won_count', 'ru')}: 0"  # one KPI as its base
    assert gap_reason("win_rate", "en") == "no base"  # won + lost
    assert gap_reason("plan_fulfillment_rate", "ru") == "нет плана" == gap_reason("plan_revenue_amount", "ru")
    assert gap_reason("first_response_minutes_median", "en") == "nothing measured"
    assert gap_reason("stage_conversion_rate", "ru") == "нет базы"
    assert gap_reason("deals_won_count", "ru") is None and gap_reason("manager_name", "ru") is None
