"""Scorecard: each manager's attainment of the role's KPI targets, the weighted total and the rank."""

from __future__ import annotations

import altair as alt
import streamlit as st

from streamlit_app import columns, data
from streamlit_app.context import Context, current
from streamlit_app.labels import t
from streamlit_app.ui import pipeline_not_applicable, role_label, scorecard_kinds, table


def scorecard(ctx: Context) -> None:
    lang = ctx.lang
    pipeline_not_applicable(ctx)
    if not data.has("mart_manager_scorecard"):
        st.info(t(lang, "no_optional_mart", mart="mart_manager_scorecard"))
        return
    frame = data.scorecard(ctx.account_id, ctx.month, ctx.team_id, ctx.manager_id)
    if frame.empty:
        st.info(t(lang, "no_scorecard", month=ctx.month_text))
        return
    st.caption(ctx.scope())
    kpi_names = {k: columns.label(k, lang) for k in frame["kpi"].unique()}
    frame = frame.assign(scorecard_role=frame["scorecard_role"].map(lambda r: role_label(lang, r)))
    long = frame.assign(kpi_label=frame["kpi"].map(kpi_names))
    order = list(dict.fromkeys(long["manager_name"]))  # by rank, best first
    st.subheader(f"{t(lang, 'heatmap')} · {ctx.month_text}")
    base = alt.Chart(long).encode(
        x=alt.X("kpi_label:N", title=t(lang, "kpi")),
        y=alt.Y("manager_name:N", sort=order, title=t(lang, "manager_name")),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("attainment:Q", title=t(lang, "attainment"),
                        scale=alt.Scale(domain=[0, 1, 1.5], range=["#d62728", "#ffdd57", "#2ca02c"])),
        tooltip=["manager_name", "kpi_label", "scorecard_role", "weight", "target", "actual",
                 alt.Tooltip("attainment:Q", format=".0%")],
    )
    labels = base.mark_text(fontSize=11).encode(text=alt.Text("attainment:Q", format=".0%"))
    st.altair_chart(heat + labels, width="stretch")

    st.subheader(t(lang, "scorecard_matrix"))
    matrix = frame.pivot_table(index=["manager_name", "scorecard_role", "total_score", "score_rank"],
                               columns="kpi", values="attainment", aggfunc="first", sort=False).reset_index()
    matrix = matrix.sort_values("score_rank")
    matrix.columns.name = None
    # a KPI column here holds the attainment of its target, not the KPI's own value
    table(matrix, "scorecard_matrix", ctx, kinds=dict.fromkeys(kpi_names, "rate"))

    st.subheader(t(lang, "scorecard_detail"))
    detail = frame.drop(columns=["manager_id"])
    table(detail, "scorecard", ctx, kinds=scorecard_kinds(detail, lang))


scorecard(current())
