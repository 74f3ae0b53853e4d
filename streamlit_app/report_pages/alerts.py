"""Alerts: the mart's current lead alerts and the manager alerts of the newest complete month, most severe first."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from streamlit_app import columns, data, formatting
from streamlit_app.alert_text import alert_message
from streamlit_app.context import Context, current
from streamlit_app.labels import Lang, t
from streamlit_app.ui import local_time, table


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
    messages = [message_text(alert, lang, ctx.currency) for alert in frame.to_dict("records")]
    # severity and alert type stay codes underneath (the downloads); the table shows them in words
    shown = frame.assign(
        detected_at=pd.to_datetime(frame["detected_at"].map(lambda v: local_time(v, ctx.timezone))),
    ).drop(columns=[*data.ALERT_PARAMETERS, "lead_url"])
    shown.insert(3, "message", messages)
    config = {}
    if frame["lead_url"].notna().any():  # a lead alert links to the lead's card in amoCRM (fct_leads.lead_url)
        shown.insert(shown.columns.get_loc("lead_id") + 1, "lead_url", frame["lead_url"])
        config["lead_url"] = st.column_config.LinkColumn(t(lang, "lead_url"), display_text=r"/leads/detail/(\d+)$")
    judged = frame["month_start"].dropna()
    if not judged.empty:
        st.caption(t(lang, "alerts_month", month=formatting.month(judged.max(), lang)))
    st.caption(t(lang, "timezone_note", tz=ctx.timezone))
    # a metric that is a registry KPI shows its value and threshold in the KPI's unit
    units = frame["metric_name"].map(lambda m: "number" if formatting.is_missing(m) else columns.kind(str(m))
                                     or "number")
    table(shown, "alerts", ctx, kinds={"metric_value": units, "threshold_value": units, "comparison_value": units,
                                       "metric_name": lambda m: columns.label(str(m), lang)}, config=config)


alerts(current())
