"""Drawing helpers shared by the pages: value formats, localised column headers, tables with CSV."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from streamlit_app.labels import Lang, currency_symbol, fmt_money, fmt_number, fmt_rate, t

# keys the pages need for filtering, not figures a reader wants
HIDDEN = ("is_team_average", "account_id", "manager_id", "group_id", "pipeline_id", "status_id")


def kind(column: str) -> str:
    if column.endswith("_amount"):
        return "money"
    if column.endswith("_rate") or column in ("attainment", "loss_reason_share"):
        return "rate"
    if column.endswith("_count"):
        return "count"
    return "number"


def is_null(value: object) -> bool:
    return value is None or bool(pd.isna(value))


def value_text(column: str, value: object, currency: str, lang: Lang) -> str:
    k = kind(column)
    if k == "money":
        return fmt_money(value, currency, lang)
    if k == "rate":
        return fmt_rate(value, lang)
    return fmt_number(value, lang, 0 if k == "count" else 1)


def delta_text(column: str, value: object, previous: object, currency: str, lang: Lang) -> str | int | None:
    """Change against the previous month's mart row; rates move in percentage points."""
    if is_null(value) or is_null(previous):
        return None
    change = float(value) - float(previous)  # type: ignore[arg-type]
    if change == 0:
        return 0  # a numeric zero renders grey, without an arrow
    k = kind(column)
    if k == "money":
        return fmt_money(change, currency, lang, signed=True)
    if k == "rate":
        return f"{fmt_number(change * 100, lang, 1, signed=True)} {t(lang, 'pp')}"
    return fmt_number(change, lang, 0 if k == "count" else 1, signed=True)


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def column_config(columns: list[str], currency: str, lang: Lang) -> dict[str, object]:
    """Localised headers and display formats; the frame itself keeps the mart's column names and values."""
    config: dict[str, object] = {}
    for column in columns:
        k = kind(column)
        if k == "money":
            label = f"{t(lang, column)}, {currency_symbol(currency)}"
            config[column] = st.column_config.NumberColumn(label, format="localized", step=1)
        elif k == "rate":
            config[column] = st.column_config.NumberColumn(t(lang, column), format="percent")
        elif k == "count" or column in ("score_rank", "lead_id"):
            config[column] = st.column_config.NumberColumn(t(lang, column), format="plain" if column == "lead_id"
                                                           else "localized")
        elif column in ("month_start", "week_start"):
            config[column] = st.column_config.DateColumn(t(lang, column), format="YYYY-MM-DD")
        elif column in ("detected_at", "checked_at"):
            config[column] = st.column_config.DatetimeColumn(t(lang, column), format="YYYY-MM-DD HH:mm")
        elif column in HIDDEN:
            config[column] = None  # hidden: a key, not a figure
        elif any(unit in column for unit in ("_minutes", "_hours", "_days", "score", "points", "weight",
                                             "target", "actual", "_value")):
            config[column] = st.column_config.NumberColumn(t(lang, column), format="%.1f")
        elif column == "is_kpi_met":
            config[column] = st.column_config.CheckboxColumn(t(lang, column))
        else:
            config[column] = st.column_config.TextColumn(t(lang, column))
    return config


def table(frame: pd.DataFrame, name: str, currency: str, lang: Lang, localise: bool = True, **config: object
          ) -> None:
    """A sortable table plus a CSV download of exactly the rows shown (mart column names, raw values)."""
    columns = column_config(list(frame.columns), currency, lang) if localise else {}
    columns.update(config)
    # short tables show every row (the team average is the last one); long ones scroll
    st.dataframe(frame, hide_index=True, column_config=columns, key=f"table_{name}",
                 height="content" if len(frame) <= 25 else "auto")
    st.download_button(
        t(lang, "download_csv"),
        frame.to_csv(index=False).encode("utf-8-sig"),  # the BOM makes Excel read Cyrillic correctly
        file_name=f"amokpi_{name}.csv",
        mime="text/csv",
        key=f"csv_{name}",
        on_click="ignore",
    )


def cards(row: pd.Series, before: pd.Series | None, columns: tuple[str, ...], currency: str, lang: Lang,
          per_row: int = 4, prefix: str = "") -> None:
    """KPI cards with the change against the previous month; `prefix` picks other labels (`pipeline_…`)."""
    shown = [c for c in columns if c in row.index]
    slots = st.columns(per_row)
    for i, column in enumerate(shown):
        slots[i % per_row].metric(
            t(lang, prefix + column),
            value_text(column, row[column], currency, lang),
            delta_text(column, row[column], None if before is None else before.get(column), currency, lang),
            # a slower first response is worse, so its growth is shown red
            delta_color="inverse" if column == "first_response_minutes_median" else "normal",
            border=True,
        )


def plan_cards(row: pd.Series, currency: str, lang: Lang) -> None:
    """Revenue against the month's plan: the fulfilment rate, and the gap in money."""
    plan = row.get("plan_revenue_amount")
    if is_null(plan):
        st.caption(f"{t(lang, 'plan_revenue_amount')}: {t(lang, 'no_plan')}")
        return
    left, middle, right = st.columns(3)
    left.metric(t(lang, "plan_revenue_amount"), fmt_money(plan, currency, lang), border=True)
    rate = row.get("plan_fulfillment_rate")
    gap = None if is_null(row.get("revenue_amount")) else float(row["revenue_amount"]) - float(plan)  # type: ignore[arg-type]
    middle.metric(t(lang, "plan_fulfillment_rate"), fmt_rate(rate, lang),
                  None if gap is None else f"{fmt_money(gap, currency, lang, signed=True)} {t(lang, 'vs_plan')}",
                  border=True)
    if "plan_deals_count" in row.index and not is_null(row.get("plan_deals_count")):
        right.metric(t(lang, "plan_deals_count"), fmt_number(row["plan_deals_count"], lang),
                     delta_text("deals_won_count", row.get("deals_won_count"), row["plan_deals_count"], currency,
                                lang), border=True)
