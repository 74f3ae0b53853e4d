"""Drawing helpers the pages share: KPI cards, tables with their CSV download, small page notes.

Headers, formats and delta colours come from `columns` (the KPI registry and a short map of the other
columns); the text itself from `formatting`.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from streamlit_app import columns, formatting
from streamlit_app.context import Context, previous_month
from streamlit_app.labels import Lang, t


def local_time(value: object, timezone: str) -> pd.Timestamp | None:
    """A UTC timestamp from the warehouse, as wall-clock time in the account timezone."""
    if formatting.is_missing(value):
        return None
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.tz_convert(ZoneInfo(timezone)).tz_localize(None)


def local_columns(frame: pd.DataFrame, timezone: str) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:  # timestamps are UTC in the warehouse
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = pd.to_datetime(frame[column].map(lambda v: local_time(v, timezone)))
    return frame


def month_rows(frame: pd.DataFrame, month: date) -> tuple[pd.Series | None, pd.Series | None]:
    """The row of `month` and the row of the month before it (for the delta), if the frame has them."""
    if frame.empty:
        return None, None
    current = frame[frame["month_start"] == month]
    previous = frame[frame["month_start"] == previous_month(month)]
    return (None if current.empty else current.iloc[0]), (None if previous.empty else previous.iloc[0])


def role_label(lang: Lang, role: object) -> object:
    return None if formatting.is_missing(role) else t(lang, f"role_{role}")


def pipeline_not_applicable(ctx: Context) -> None:
    # manager KPIs and scores are per manager across pipelines; say so rather than filter silently
    if ctx.pipeline is not None:
        st.caption(t(ctx.lang, "all_pipelines_note", pipeline=ctx.pipeline[1]))


def scorecard_kinds(frame: pd.DataFrame, lang: Lang) -> dict[str, formatting.ColumnKind]:
    """A scorecard row is about one KPI: its name shows as the registry label, target and actual in its unit."""
    units = frame["kpi"].map(lambda name: columns.kind(str(name)) or "number")
    return {"kpi": lambda name: columns.label(str(name), lang), "target": units, "actual": units}


def table(frame: pd.DataFrame, name: str, ctx: Context, kinds: dict[str, formatting.ColumnKind] | None = None,
          labels: dict[str, str] | None = None) -> None:
    """A sortable table plus a CSV download of exactly the rows shown (mart column names, raw values).

    The cells show `formatting`'s text over the raw values (see formatting.table_styler); `kinds` adds or
    overrides how a column is shown, `labels` its header.
    """
    lang = ctx.lang
    header = {c: None if c in columns.HIDDEN else columns.label(c, lang) for c in frame.columns}
    header.update(labels or {})
    styled = formatting.table_styler(frame, {**columns.kinds(list(frame.columns)), **(kinds or {})}, lang,
                                     ctx.currency)
    # short tables show every row (the team average is the last one); long ones scroll
    st.dataframe(styled, hide_index=True, column_config=header, key=f"table_{name}",
                 height="content" if len(frame) <= 25 else "auto")
    st.download_button(
        t(lang, "download_csv"),
        frame.to_csv(index=False).encode("utf-8-sig"),  # the BOM makes Excel read Cyrillic correctly
        file_name=f"amokpi_{name}.csv",
        mime="text/csv",
        key=f"csv_{name}",
        on_click="ignore",
    )


def _delta(column: str, value: object, before: object, ctx: Context) -> str | int | None:
    """Change against the previous month's mart row; rates move in percentage points."""
    if formatting.is_missing(value) or formatting.is_missing(before):
        return None
    change = float(value) - float(before)  # type: ignore[arg-type]
    if change == 0:
        return 0  # a numeric zero renders grey, without an arrow
    return formatting.change(change, columns.kind(column) or "number", ctx.lang, ctx.currency, t(ctx.lang, "pp"))


def cards(row: pd.Series, before: pd.Series | None, shown: tuple[str, ...], ctx: Context, per_row: int = 4,
          prefix: str = "") -> None:
    """KPI cards with the change against the previous month; `prefix` picks other labels (`pipeline_…`)."""
    present = [c for c in shown if c in row.index]
    slots = st.columns(per_row)
    for i, column in enumerate(present):
        slots[i % per_row].metric(
            t(ctx.lang, prefix + column) if prefix else columns.label(column, ctx.lang),
            formatting.value(row[column], columns.kind(column) or "number", ctx.lang, ctx.currency),
            _delta(column, row[column], None if before is None else before.get(column), ctx),
            delta_color=columns.delta_color(column),
            border=True,
        )


def plan_cards(row: pd.Series, ctx: Context) -> None:
    """Revenue against the month's plan: the fulfilment rate, and the gap in money."""
    lang, currency = ctx.lang, ctx.currency
    plan = row.get("plan_revenue_amount")
    if formatting.is_missing(plan):
        st.caption(f"{columns.label('plan_revenue_amount', lang)}: {t(lang, 'no_plan')}")
        return
    left, middle, right = st.columns(3)
    left.metric(columns.label("plan_revenue_amount", lang), formatting.money(plan, currency, lang), border=True)
    revenue = row.get("revenue_amount")
    gap = None if formatting.is_missing(revenue) else float(revenue) - float(plan)  # type: ignore[arg-type]
    middle.metric(columns.label("plan_fulfillment_rate", lang),
                  formatting.percent(row.get("plan_fulfillment_rate"), lang),
                  None if gap is None else f"{formatting.money(gap, currency, lang, signed=True)} {t(lang, 'vs_plan')}",
                  border=True)
    if "plan_deals_count" in row.index and not formatting.is_missing(row.get("plan_deals_count")):
        right.metric(columns.label("plan_deals_count", lang), formatting.number(row["plan_deals_count"], lang),
                     _delta("deals_won_count", row.get("deals_won_count"), row["plan_deals_count"], ctx),
                     border=True)
