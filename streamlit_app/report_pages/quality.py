"""Data quality: the last load and the sources' freshness, each tool's latest check run (dbt tests, Great
Expectations), the quarantine."""

from __future__ import annotations

import streamlit as st

from streamlit_app import data, formatting
from streamlit_app.context import Context, current
from streamlit_app.labels import t
from streamlit_app.ui import local_columns, local_time, table


def quality(ctx: Context) -> None:
    lang = ctx.lang
    loaded = data.last_load(ctx.access)
    st.metric(t(lang, "last_load"),
              t(lang, "last_load_missing") if loaded is None
              else formatting.moment(local_time(loaded, ctx.timezone), lang),
              border=True)
    st.caption(t(lang, "timezone_note", tz=ctx.timezone))
    fresh = data.freshness(ctx.access)
    st.subheader(t(lang, "freshness_heading"))
    if fresh.empty:
        st.info(t(lang, "freshness_missing"))
    else:
        st.caption(t(lang, "freshness_note"))
        table(local_columns(fresh, ctx.timezone), "freshness", ctx)
    latest = data.quality_latest(ctx.access)
    if not ctx.access.is_head:  # the data layer returns them empty: say why rather than "no checks yet"
        st.info(t(lang, "quality_head_only"))
        return
    if latest is None:
        st.info(t(lang, "quality_missing"))
    elif latest.empty:
        st.info(t(lang, "quality_empty"))
    else:
        st.subheader(t(lang, "quality_latest"))
        if {"tool", "status"} <= set(latest.columns):
            tools = list(dict.fromkeys(latest["tool"]))
            slots = st.columns(max(len(tools), 1))
            for slot, tool in zip(slots, tools, strict=False):
                rows = latest[latest["tool"] == tool]
                failed = int((rows["status"] == "fail").sum())
                warned = int((rows["status"] == "warn").sum())
                slot.metric(t(lang, "checks_summary", tool=t(lang, f"tool_{tool}")),
                            f"{formatting.number(failed, lang)} / {formatting.number(len(rows), lang)}",
                            t(lang, "warned", n=warned) if warned else None, delta_color="off", border=True)
        # the checks' own words (status, severity, message) are shown as the tools wrote them
        table(local_columns(latest, ctx.timezone), "quality_latest", ctx)
        history = data.quality_history(ctx.access)
        if not history.empty:
            st.subheader(t(lang, "quality_history"))
            table(local_columns(history, ctx.timezone), "quality_history", ctx)

    st.subheader(t(lang, "quarantine"))
    kept = data.quarantine(ctx.access)
    if kept is None:
        st.info(t(lang, "no_optional_mart", mart="mart_quarantine"))
    elif kept.empty:
        st.success(t(lang, "quarantine_empty"))
    else:
        st.caption(t(lang, "quarantine_note", n=formatting.number(len(kept), lang)))
        table(local_columns(kept, ctx.timezone), "quarantine", ctx)


quality(current())
