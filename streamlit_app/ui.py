"""Drawing helpers the pages share: KPI cards, tables with their CSV download, small page notes.

Headers, formats and delta colours come from `columns` (the KPI registry and a short map of the other
columns); the text itself from `formatting`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from streamlit_app import columns, data, formatting
from streamlit_app.context import Context, previous_month
from streamlit_app.labels import Lang, t

MATURING = "*"  # a cohort KPI of a month whose new leads are still being worked


def local_time(value: object, timezone: str) -> pd.Timestamp | None:
    """A UTC timestamp from the warehouse, as wall-clock time in the account timezone."""
    if formatting.is_missing(value):
        return None
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.tz_convert(ZoneInfo(timezone)).tz_localize(None)


def local_columns(frame: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Every timestamp column as wall-clock time in the account timezone (as local_time, column at a time: a
    lead list holds thousands of rows)."""
    frame = frame.copy()
    for column in frame.columns:  # timestamps are UTC in the warehouse
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            values = frame[column]
            utc = values.dt.tz_localize("UTC") if values.dt.tz is None else values.dt.tz_convert("UTC")
            frame[column] = utc.dt.tz_convert(ZoneInfo(timezone)).dt.tz_localize(None)
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
    # for the pages with no per-pipeline grain (scorecard, onboarding): say so, and why, rather than filter silently
    if ctx.pipeline is not None:
        st.caption(t(ctx.lang, "all_pipelines_note", pipeline=ctx.pipeline[1]))


def scorecard_kinds(frame: pd.DataFrame, lang: Lang) -> dict[str, formatting.ColumnKind]:
    """A scorecard row is about one KPI: its name shows as the registry label, target and actual in its unit."""
    units = frame["kpi"].map(lambda name: columns.kind(str(name)) or "number")
    return {"kpi": lambda name: columns.label(str(name), lang), "target": units, "actual": units}


def is_maturing(ctx: Context, month: object) -> bool:
    """The one rule for young cohorts: a month is still maturing when it is the newest month of the data
    (the snapshot's) or the month before it, since its new leads are still being worked."""
    if formatting.is_missing(month):
        return False
    newest = data.months(ctx.access, ctx.account_id)
    return bool(newest) and pd.Timestamp(month).date() >= previous_month(newest[0])  # type: ignore[arg-type]


def maturing_note(ctx: Context) -> None:
    """The maturing marker explained, once a page (the context is built afresh on every run)."""
    if st.session_state.get("_maturing_noted") == id(ctx):
        return
    st.session_state["_maturing_noted"] = id(ctx)
    # the marker is an asterisk: escaped, or Markdown would draw the note as a bullet point
    st.caption(t(ctx.lang, "maturing_note").replace(MATURING, "\\" + MATURING, 1))


# rows a table draws (formatting every cell costs time); its CSV and Excel carry every row
SHOWN_ROWS = 300


def excel(frame: pd.DataFrame, header: dict[str, str]) -> bytes:
    """The rows shown as an .xlsx sheet: the reader's headers over the mart's raw values."""
    sheet = frame.copy()
    for column in sheet.columns:
        if isinstance(sheet[column].dtype, pd.DatetimeTZDtype):  # Excel has no time zones
            sheet[column] = sheet[column].dt.tz_localize(None)
    sheet.columns = [header.get(c, c) for c in sheet.columns]
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        sheet.to_excel(writer, index=False, sheet_name="amokpi")
    return buffer.getvalue()


def csv(frame: pd.DataFrame) -> bytes:
    """The rows as CSV with the mart's column names; the BOM makes Excel read Cyrillic correctly."""
    return frame.to_csv(index=False).encode("utf-8-sig")


Derive = Callable[[pd.DataFrame], pd.DataFrame]


def _derived(frame: pd.DataFrame, derive: Derive | None) -> pd.DataFrame:
    return frame if derive is None else derive(frame)


def downloads(frame: pd.DataFrame, name: str, lang: Lang, header: dict[str, str], derive: Derive | None = None) -> None:
    """CSV and Excel of exactly the rows shown (raw values; the CSV keeps mart column names). The Excel file, and a
    long table's CSV (and the columns `derive` words row by row), are made when asked for, not on every run of the
    page: a workbook is ~0.1 s of openpyxl even for a short table, on every filter change of every table."""
    left, right, _ = st.columns([1, 1, 4])
    short = len(frame) <= SHOWN_ROWS
    left.download_button(
        t(lang, "download_csv"),
        csv(_derived(frame, derive)) if short else lambda: csv(_derived(frame, derive)),
        file_name=f"amokpi_{name}.csv",
        mime="text/csv",
        key=f"csv_{name}",
        on_click="ignore",
    )
    right.download_button(
        t(lang, "download_xlsx"),
        lambda: excel(_derived(frame, derive), header),
        file_name=f"amokpi_{name}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"xlsx_{name}",
        on_click="ignore",
    )


def table(frame: pd.DataFrame, name: str, ctx: Context, kinds: dict[str, formatting.ColumnKind] | None = None,
          labels: dict[str, str] | None = None, config: dict[str, object] | None = None,
          derive: Derive | None = None) -> None:
    """A sortable table plus CSV and Excel downloads of exactly the rows shown (raw values).

    `derive` turns fetched rows into the rows shown (columns worded one row at a time, such as an alert's
    sentence, keeping the index): it runs on the rows drawn, and on every row only when a download is asked for.

    The cells show `formatting`'s text over the raw values (see formatting.table_styler); `kinds` adds or
    overrides how a column is shown, `labels` its header, `config` a column's st.column_config (links).
    An empty cell says why when its column knows (columns.gap_reason), else shows a dash; an enumeration
    code shows its word; a cohort KPI of a month still maturing
    carries a marker.
    """
    lang = ctx.lang
    full = frame
    if len(frame) > SHOWN_ROWS:  # nobody reads 7,000 rows on screen (300 fill many screens); the downloads hold all
        st.caption(t(lang, "rows_shown", shown=formatting.number(SHOWN_ROWS, lang),
                     total=formatting.number(len(frame), lang)))
        frame = frame.head(SHOWN_ROWS)
    frame = _derived(frame, derive)
    header = {c: None if c in columns.HIDDEN else columns.label(c, lang) for c in frame.columns}
    header.update(labels or {})
    enums = {c: (lambda v, c=c: columns.enum_text(c, v, lang)) for c in frame.columns if c in columns.ENUMS}
    shown_kinds = {**columns.kinds(list(frame.columns)), **enums, **(kinds or {})}
    # a per-row kind (a Series over the rows) keeps only the rows drawn
    shown_kinds = {c: k.loc[frame.index] if isinstance(k, pd.Series) else k for c, k in shown_kinds.items()}
    gaps = {c: reason for c in frame.columns if (reason := columns.gap_reason(str(c), lang)) is not None}
    styled = formatting.table_styler(frame, shown_kinds, lang, ctx.currency, gaps)
    styled, marked = _mark_maturing(styled, frame, shown_kinds, gaps, ctx)
    column_config: dict[str, object] = dict(header)
    column_config.update(config or {})
    # short tables show every row (the team average is the last one); long ones scroll
    st.dataframe(styled, hide_index=True, column_config=column_config, key=f"table_{name}",
                 height="content" if len(frame) <= 25 else "auto", placeholder=formatting.MISSING)
    if marked:
        maturing_note(ctx)
    downloads(full, name, lang, {c: h for c, h in header.items() if h is not None}, derive)


def _mark_maturing(styled: Styler, frame: pd.DataFrame, kinds: dict[str, formatting.ColumnKind],
                   gaps: dict[str, str], ctx: Context) -> tuple[Styler, bool]:
    """Add the maturing marker to cohort KPI cells of a young month (the row's month, else the page's)."""
    if "kpi" in frame.columns:  # a scorecard row is about the KPI it names
        rows = frame.index[frame["kpi"].map(lambda k: columns.is_cohort(str(k)))]
        cells = [c for c in ("actual", "attainment") if c in frame.columns]
    else:
        rows = frame.index
        cells = [c for c in frame.columns if columns.is_cohort(str(c))]
    if "month_start" in frame.columns:
        young = frame["month_start"].map(lambda m: is_maturing(ctx, m))
        rows = rows[young.loc[rows].to_numpy(dtype=bool)] if len(rows) else rows
    elif not is_maturing(ctx, ctx.month):
        return styled, False
    if not len(rows) or not cells:
        return styled, False
    for column in cells:
        kind = kinds.get(column)
        if kind is None:
            kind = columns.kind(column) or formatting.kind_of(frame[column])
        for row in rows:
            row_kind = kind.loc[row] if isinstance(kind, pd.Series) else kind
            text = (gaps.get(column, formatting.MISSING) if formatting.is_missing(frame.at[row, column]) else
                    row_kind(frame.at[row, column]) if callable(row_kind) else
                    formatting.value(frame.at[row, column], str(row_kind), ctx.lang, ctx.currency))
            styled = styled.format(lambda _v, s=f"{text} {MATURING}": s, subset=([row], [column]))
    return styled, True


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
    young = is_maturing(ctx, ctx.month)
    slots = st.columns(per_row)
    for i, column in enumerate(present):
        label = t(ctx.lang, prefix + column) if prefix else columns.label(column, ctx.lang)
        slots[i % per_row].metric(
            f"{label} {MATURING}" if young and columns.is_cohort(column) else label,
            formatting.value(row[column], columns.kind(column) or "number", ctx.lang, ctx.currency),
            _delta(column, row[column], None if before is None else before.get(column), ctx),
            delta_color=columns.delta_color(column),
            border=True,
            help=t(ctx.lang, "maturing_note") if young and columns.is_cohort(column) else None,
        )
    if young and any(columns.is_cohort(c) for c in present):
        maturing_note(ctx)


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


def lead_list(leads: pd.DataFrame, name: str, ctx: Context) -> None:
    """The leads behind a figure, each linking to its amoCRM card, with CSV and Excel downloads."""
    if leads.empty:
        st.info(t(ctx.lang, "leads_drill_empty", month=ctx.month_text))
        return
    st.caption(t(ctx.lang, "leads_drill_caption", n=formatting.number(len(leads), ctx.lang)))
    shown = local_columns(leads, ctx.timezone)
    config: dict[str, object] = {}
    if shown["lead_url"].notna().any():
        config["lead_url"] = st.column_config.LinkColumn(t(ctx.lang, "lead_url"), display_text=r"/leads/detail/(\d+)$")
    else:
        shown = shown.drop(columns=["lead_url"])
    table(shown, name, ctx, config=config)
