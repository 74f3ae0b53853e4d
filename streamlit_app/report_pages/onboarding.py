"""Onboarding: how long new managers took to reach the team's median revenue (mart_manager_onboarding)."""

from __future__ import annotations

import streamlit as st

from streamlit_app import charts, data
from streamlit_app.context import Context, current
from streamlit_app.labels import t
from streamlit_app.ui import pipeline_not_applicable, table


def onboarding(ctx: Context) -> None:
    lang = ctx.lang
    pipeline_not_applicable(ctx)
    if not data.has("mart_manager_onboarding"):
        st.info(t(lang, "no_optional_mart", mart="mart_manager_onboarding"))
        return
    frame = data.onboarding(ctx.access, ctx.account_id, ctx.team_id, ctx.manager_id)
    if frame.empty:
        st.info(t(lang, "no_onboarding"))
        return
    st.caption(ctx.scope())
    st.caption(t(lang, "onboarding_note"))
    reached = frame[frame["onboarding_days"].notna()]
    if not reached.empty:
        st.subheader(t(lang, "onboarding_chart"))
        charts.draw(charts.series(reached, "manager_name", ["onboarding_days"], lang, horizontal=True,
                                  colors=[charts.BLUE]), lang, key="chart_onboarding")
    table(frame, "onboarding", ctx)


onboarding(current())
