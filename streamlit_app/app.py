"""amoCRM sales report: selects, filters and draws what the marts hold.

Run with `streamlit run streamlit_app/app.py`.
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st

# `streamlit run` puts only this folder on sys.path; add the project root so it also runs uninstalled.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from streamlit_app import data  # noqa: E402
from streamlit_app.labels import (  # noqa: E402
    LANGUAGES,
    PAGES,
    Lang,
    currency_symbol,
    fmt_money,
    fmt_number,
    fmt_rate,
    month_label,
    stage_role_label,
    t,
)

MONEY = ("revenue_amount", "avg_deal_amount")


def _kind(column: str) -> str:
    if column in MONEY:
        return "money"
    if column.endswith("_rate"):
        return "rate"
    if column.endswith("_count"):
        return "count"
    return "number"


def _is_null(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def _value(column: str, value: object, currency: str, lang: Lang) -> str:
    kind = _kind(column)
    if kind == "money":
        return fmt_money(value, currency, lang)
    if kind == "rate":
        return fmt_rate(value, lang)
    return fmt_number(value, lang, 0 if kind == "count" else 1)


def _delta(column: str, value: object, previous: object, currency: str, lang: Lang) -> str | int | None:
    """Change against the previous month's mart row; rates move in percentage points."""
    if _is_null(value) or _is_null(previous):
        return None
    change = float(value) - float(previous)  # type: ignore[arg-type]
    if change == 0:
        return 0  # a numeric zero renders grey, without an arrow
    kind = _kind(column)
    if kind == "money":
        return fmt_money(change, currency, lang, signed=True)
    if kind == "rate":
        return f"{fmt_number(change * 100, lang, 1, signed=True)} {t(lang, 'pp')}"
    return fmt_number(change, lang, 0 if kind == "count" else 1, signed=True)


def _column_config(columns: list[str], currency: str, lang: Lang) -> dict[str, object]:
    """Localised headers and display formats; the frame itself keeps the mart's column names and values."""
    config: dict[str, object] = {}
    for column in columns:
        kind = _kind(column)
        if kind == "money":
            label = f"{t(lang, column)}, {currency_symbol(currency)}"
            config[column] = st.column_config.NumberColumn(label, format="localized", step=1)
        elif kind == "rate":
            config[column] = st.column_config.NumberColumn(t(lang, column), format="percent")
        elif kind == "count":
            config[column] = st.column_config.NumberColumn(t(lang, column), format="localized")
        elif any(unit in column for unit in ("_minutes", "_hours", "_days")):
            config[column] = st.column_config.NumberColumn(t(lang, column), format="%.1f")
        else:
            config[column] = st.column_config.TextColumn(t(lang, column))
    return config


def _previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def overview(kpis: pd.DataFrame, month: date, currency: str, lang: Lang) -> None:
    current = kpis[kpis["month_start"] == month]
    if current.empty:
        st.info(t(lang, "no_month_data", month=month_label(lang, month)))
        return
    row = current.iloc[0]
    previous = kpis[kpis["month_start"] == _previous_month(month)]
    before = previous.iloc[0] if not previous.empty else None
    if before is None:
        st.caption(t(lang, "no_previous"))
    cards = st.columns(4)
    for i, column in enumerate(data.KPI_COLUMNS):
        cards[i % 4].metric(
            t(lang, column),
            _value(column, row[column], currency, lang),
            _delta(column, row[column], None if before is None else before[column], currency, lang),
            # a slower first response is worse, so its growth is shown red
            delta_color="inverse" if column == "first_response_minutes_median" else "normal",
            border=True,
        )
    st.subheader(t(lang, "revenue_by_month"))
    chart = kpis.sort_values("month_start").assign(month=lambda f: f["month_start"].map(
        lambda m: month_label(lang, m)))
    st.bar_chart(chart, x="month", y="revenue_amount", sort=False, x_label=t(lang, "month"),
                 y_label=f"{t(lang, 'revenue_amount')}, {currency_symbol(currency)}")


def funnel(account_id: int, pipeline: tuple[int, str] | None, month: date, currency: str, lang: Lang) -> None:
    if pipeline is None:
        st.info(t(lang, "no_pipelines"))
        return
    frame = data.funnel(account_id, pipeline[0], month)
    if frame.empty:
        st.info(t(lang, "no_funnel_data", pipeline=pipeline[1], month=month_label(lang, month)))
        return
    st.subheader(f"{pipeline[1]} · {month_label(lang, month)}")
    shown = frame.assign(stage_role=frame["stage_role"].map(lambda role: stage_role_label(lang, role)))
    st.dataframe(shown, hide_index=True, column_config=_column_config(list(frame.columns), currency, lang))
    counts = ["leads_entered_count", "leads_advanced_count", "leads_lost_count"]
    chart = frame[["status_name", *counts]].rename(columns={c: t(lang, c) for c in counts})
    # entered blue, advanced green, lost red, in the order of `counts`
    st.bar_chart(chart, x="status_name", y=[t(lang, c) for c in counts], sort=False, stack=False,
                 color=["#1f77b4", "#2ca02c", "#d62728"], x_label=t(lang, "status_name"))


def managers(account_id: int, month: date, currency: str, lang: Lang) -> None:
    frame = data.managers(account_id, month)
    if frame.empty:
        st.info(t(lang, "no_manager_data", month=month_label(lang, month)))
        return
    st.subheader(month_label(lang, month))
    st.dataframe(frame, hide_index=True, column_config=_column_config(list(frame.columns), currency, lang))
    st.subheader(t(lang, "calls_vs_deals"))
    st.scatter_chart(frame, x="calls_count", y="deals_won_count", color="manager_name",
                     x_label=t(lang, "calls_count"), y_label=t(lang, "deals_won_count"))


def report(lang: Lang, page: str) -> None:
    data.check_marts()
    accounts = data.accounts()
    if accounts.empty:
        st.info(t(lang, "no_data"))
        return
    # Normally one account per warehouse; offer a choice only when there are several.
    account_ids = [int(a) for a in accounts["account_id"]]
    account_id = account_ids[0]
    if len(account_ids) > 1:
        account_id = st.sidebar.selectbox(t(lang, "account"), account_ids, key="account")
    currency = str(accounts.loc[accounts["account_id"] == account_id, "currency"].iloc[0])

    kpis = data.department_kpis(account_id)
    if kpis.empty:
        st.info(t(lang, "no_data"))
        return
    month = st.sidebar.selectbox(t(lang, "month"), list(kpis["month_start"]),
                                 format_func=lambda m: month_label(lang, m), key="month")
    pipes = data.pipelines(account_id)
    names = dict(zip(pipes["pipeline_id"].astype(int), pipes["pipeline_name"].astype(str), strict=True))
    pipeline_id = st.sidebar.selectbox(t(lang, "pipeline"), list(names), format_func=names.get,
                                       key="pipeline")
    pipeline = None if pipeline_id is None else (pipeline_id, names[pipeline_id])

    if page == "funnel":
        funnel(account_id, pipeline, month, currency, lang)
    elif page == "managers":
        managers(account_id, month, currency, lang)
    else:
        overview(kpis, month, currency, lang)


def main() -> None:
    st.set_page_config(page_title="amokpi", page_icon="📈", layout="wide")
    # The language switch is labelled in both languages, since it is what you use to read the rest.
    lang: Lang = st.sidebar.radio(t("ru", "language"), list(LANGUAGES),
                                  format_func=LANGUAGES.get, key="lang", horizontal=True)
    page = st.sidebar.radio(t(lang, "page"), PAGES, format_func=lambda p: t(lang, p), key="page")
    st.title(f"{t(lang, 'title')} · {t(lang, page)}")
    try:
        report(lang, page)
    except data.WarehouseUnavailable as problem:
        # A missing or half-built warehouse is an expected state, not a crash: explain what to do.
        st.warning(t(lang, problem.reason, path=problem.path, **problem.detail))


main()
