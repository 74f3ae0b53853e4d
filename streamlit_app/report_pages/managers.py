"""Managers: the month's leaderboard, the side-by-side comparison with the team average, calls vs deals."""

from __future__ import annotations

import streamlit as st

from streamlit_app import charts, data
from streamlit_app.context import Context, current
from streamlit_app.labels import t
from streamlit_app.ui import pipeline_not_applicable, role_label, table


def managers(ctx: Context) -> None:
    lang = ctx.lang
    pipeline_not_applicable(ctx)
    frame = data.managers(ctx.account_id, ctx.month, ctx.team_id, ctx.manager_id)
    if frame.empty:
        st.info(t(lang, "no_manager_data", month=ctx.month_text))
        return
    st.subheader(f"{t(lang, 'leaderboard')} · {ctx.month_text}")
    st.caption(ctx.scope())
    table(frame, "leaderboard", ctx)

    compared = data.comparison(ctx.account_id, ctx.month, ctx.team_id, ctx.manager_id)
    st.subheader(t(lang, "comparison"))
    if not data.has("mart_manager_comparison"):
        st.info(t(lang, "no_optional_mart", mart="mart_manager_comparison"))
    elif compared.empty:
        st.info(t(lang, "no_manager_data", month=ctx.month_text))
    else:
        average = compared["is_team_average"].fillna(False).astype(bool)
        compared = compared.assign(manager_name=compared["manager_name"].where(~average, t(lang, "team_average")),
                                   scorecard_role=compared["scorecard_role"].map(lambda r: role_label(lang, r)))
        table(compared, "comparison", ctx)

    st.subheader(t(lang, "calls_vs_deals"))
    # every manager labelled on the point and listed in the legend
    charts.draw(charts.labelled_scatter(frame, "calls_count", "deals_won_count", "manager_name", lang), lang,
                key="chart_calls_vs_deals")


managers(current())
