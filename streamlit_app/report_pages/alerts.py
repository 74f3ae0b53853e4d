"""Alerts: the mart's current lead alerts and the manager alerts of the newest complete month, most severe first."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from streamlit_app import columns, data, formatting
from streamlit_app.alert_text import alert_message
from streamlit_app.context import Context, current
from streamlit_app.labels import Lang, t
from streamlit_app.ui import local_columns, table


def message_text(alert: Mapping[str, object], lang: Lang, currency: str | None) -> str:
    """The alert's sentence in the reader's language, worded from the mart's parameters."""
    return alert_message(alert, lang, currency)


def alerts(ctx: Context) -> None:
    lang = ctx.lang
    if not data.has("mart_alerts"):
        st.info(t(lang, "no_optional_mart", mart="mart_alerts"))
        return
    frame = data.alerts(ctx.access, ctx.account_id, ctx.month, ctx.pipeline_id, ctx.team_id, ctx.manager_id)
    st.caption(ctx.scope() + (f" · {ctx.pipeline[1]}" if ctx.pipeline else ""))
    if frame.empty:
        st.info(t(lang, "no_alerts", month=ctx.month_text))
        return
    counts = frame.groupby("alert_type", sort=False).size()
    slots = st.columns(len(counts) + 1)
    slots[0].metric(t(lang, "alerts_total"), formatting.number(len(frame), lang), border=True)
    for slot, (kind, count) in zip(slots[1:], counts.items(), strict=True):
        slot.metric(t(lang, str(kind)), formatting.number(count, lang), border=True)
    has_links = bool(frame["lead_url"].notna().any())  # a lead alert links to the lead's card in amoCRM

    def worded(rows: pd.DataFrame) -> pd.DataFrame:
        """The rows as read: the sentence, local time; severity and type stay codes underneath (the downloads)."""
        shown = rows.assign(detected_at=local_columns(rows[["detected_at"]], ctx.timezone)["detected_at"]).drop(
            columns=[*data.ALERT_PARAMETERS, "lead_url"])
        shown.insert(3, "message", [message_text(alert, lang, ctx.currency) for alert in rows.to_dict("records")])
        if has_links:
            shown.insert(shown.columns.get_loc("lead_id") + 1, "lead_url", rows["lead_url"])
        return shown

    config = {}
    if has_links:
        config["lead_url"] = st.column_config.LinkColumn(t(lang, "lead_url"), display_text=r"/leads/detail/(\d+)$")
    judged = frame["month_start"].dropna()
    if not judged.empty:
        st.caption(t(lang, "alerts_month", month=formatting.month(judged.max(), lang)))
    st.caption(t(lang, "timezone_note", tz=ctx.timezone))
    # a metric that is a registry KPI shows its value and threshold in the KPI's unit
    units = frame["metric_name"].map(lambda m: "number" if formatting.is_missing(m) else columns.kind(str(m))
                                     or "number")
    table(frame, "alerts", ctx, kinds={"metric_value": units, "threshold_value": units, "comparison_value": units,
                                       "metric_name": lambda m: columns.label(str(m), lang)}, config=config,
          derive=worded)


alerts(current())
