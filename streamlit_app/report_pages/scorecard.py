"""Scorecard: each manager's attainment of the role's KPI targets, the weighted total and the rank."""

from __future__ import annotations

import altair as alt
import streamlit as st

from streamlit_app import charts, columns, data
from streamlit_app.context import Context, current
from streamlit_app.labels import t
from streamlit_app.ui import pipeline_not_applicable, role_label, scorecard_kinds, table


def scorecard(ctx: Context) -> None:
    lang = ctx.lang
    pipeline_not_applicable(ctx)
    if not data.has("mart_manager_scorecard"):
        st.info(t(lang, "no_optional_mart", mart="mart_manager_scorecard"))
        return
    frame = data.scorecard(ctx.access, ctx.account_id, ctx.month, ctx.team_id, ctx.manager_id)
    if frame.empty:
        st.info(t(lang, "no_scorecard", month=ctx.month_text))
        return
    st.caption(ctx.scope())
    kpi_names = {k: columns.label(k, lang) for k in frame["kpi"].unique()}
    frame = frame.assign(scorecard_role=frame["scorecard_role"].map(lambda r: role_label(lang, r)))
    long = frame.assign(kpi_label=frame["kpi"].map(kpi_names))
    order = list(dict.fromkeys(long["manager_name"]))  # by rank, best first
    st.subheader(f"{t(lang, 'heatmap')} · {ctx.month_text}")
    heat = charts.heatmap(
        long, "kpi_label", "manager_name", "attainment", lang, x_order=list(kpi_names.values()), y_order=order,
        x_title=t(lang, "kpi"), y_title=t(lang, "manager_name"), domain=[0, 1, 1.5],
        palette=["#d62728", "#ffdd57", "#2ca02c"],
        tooltip=[charts.tooltip("manager_name", lang, field_type="N"), alt.Tooltip("kpi_label:N", title=t(lang, "kpi")),
                 charts.tooltip("scorecard_role", lang, field_type="N"), charts.tooltip("weight", lang),
                 charts.tooltip("attainment", lang)])
    charts.draw(heat, lang, key="chart_heatmap")

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
