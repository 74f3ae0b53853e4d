"""Managers: the period's leaderboard (a month, its quarter or the year to date), the month's side-by-side
comparison with the team average, calls vs deals.

With a pipeline chosen, the leaderboard (and the chart, when its columns are there) shows that pipeline's
figures from mart_manager_pipeline_kpi_monthly: only the KPIs about leads are split by pipeline.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from streamlit_app import charts, columns, data
from streamlit_app.context import Context, current
from streamlit_app.labels import t
from streamlit_app.ui import role_label, table

CHART_COLUMNS = ("calls_count", "deals_won_count")


def pipeline_note(ctx: Context, pipeline_name: str, shown: list[str]) -> None:
    """Name the pipeline and the KPIs split by it; the others (revenue, calls …) are not shown for a pipeline, nor
    are managers without leads in it (the mart has rows only where there are leads)."""
    kpis = ", ".join(columns.label(c, ctx.lang) for c in shown)
    st.caption(f"{t(ctx.lang, 'pipeline_kpis_note', pipeline=pipeline_name, kpis=kpis)} "
               f"{t(ctx.lang, 'pipeline_managers_note')}")


def leaderboard(ctx: Context) -> pd.DataFrame | None:
    """Draw the leaderboard (all pipelines, or the chosen one's lead KPIs); the frame drawn, None when empty."""
    lang = ctx.lang
    if ctx.pipeline is None or not data.has(data.PIPELINE_KPI_MART):
        if ctx.pipeline is not None:
            st.caption(t(lang, "pipeline_kpis_missing", pipeline=ctx.pipeline[1]))
        if ctx.period is None:
            frame = data.managers(ctx.access, ctx.account_id, ctx.month, ctx.team_id, ctx.manager_id)
        else:  # mart_manager_kpi_periods: the period's counts, and rates and medians over the period
            frame = data.period_managers(ctx.access, ctx.account_id, ctx.period, (ctx.period_start, ctx.period_end),
                                         ctx.team_id, ctx.manager_id)
        if frame.empty:
            st.info(t(lang, "no_manager_data", month=ctx.period_text))
            return None
        st.subheader(f"{t(lang, 'leaderboard')} · {ctx.period_text}")
        st.caption(ctx.scope())
        if ctx.period is not None:
            st.caption(t(lang, "period_team_note"))
        table(frame, "leaderboard", ctx)
        return frame
    if ctx.period is not None:  # the pipeline mart is monthly
        st.caption(t(lang, "pipeline_monthly_note", pipeline=ctx.pipeline[1], month=ctx.month_text))
    pipeline_id, pipeline_name = ctx.pipeline
    shown = [c for c in data.MANAGER_COLUMNS if c in data.pipeline_kpi_columns()]
    frame = data.manager_pipeline_kpis(ctx.access, ctx.account_id, ctx.month, pipeline_id, shown, ctx.team_id,
                                       ctx.manager_id)
    st.subheader(f"{t(lang, 'leaderboard')} · {pipeline_name} · {ctx.month_text}")
    st.caption(ctx.scope())
    pipeline_note(ctx, pipeline_name, shown)
    if frame.empty:
        st.info(t(lang, "no_pipeline_manager_data", pipeline=pipeline_name, month=ctx.month_text))
        return None
    table(frame, f"leaderboard_pipeline_{pipeline_id}", ctx)
    return frame


def managers(ctx: Context) -> None:
    lang = ctx.lang
    frame = leaderboard(ctx)
    if frame is None and ctx.pipeline is None:
        return

    compared = data.comparison(ctx.access, ctx.account_id, ctx.month, ctx.team_id, ctx.manager_id)
    st.subheader(t(lang, "comparison"))
    if not data.has("mart_manager_comparison"):
        st.info(t(lang, "no_optional_mart", mart="mart_manager_comparison"))
    elif compared.empty:
        st.info(t(lang, "no_manager_data", month=ctx.month_text))
    else:
        if ctx.pipeline is not None:  # the comparison mart has no pipeline grain
            st.caption(t(lang, "comparison_all_pipelines"))
        if ctx.period is not None:  # nor a period one: a team average is the month's
            st.caption(t(lang, "comparison_month_note", month=ctx.month_text))
        average = compared["is_team_average"].fillna(False).astype(bool)
        compared = compared.assign(manager_name=compared["manager_name"].where(~average, t(lang, "team_average")),
                                   scorecard_role=compared["scorecard_role"].map(lambda r: role_label(lang, r)))
        table(compared, "comparison", ctx)

    if frame is None:  # a pipeline none of the managers had leads in this month: the leaderboard said so
        return
    st.subheader(t(lang, "calls_vs_deals"))
    if not set(CHART_COLUMNS) <= set(frame.columns):  # a pipeline's frame: calls are not split by pipeline
        st.caption(t(lang, "calls_vs_deals_no_pipeline"))
    else:
        # every manager labelled on the point and listed in the legend
        charts.draw(charts.labelled_scatter(frame, *CHART_COLUMNS, "manager_name", lang), lang,
                    key="chart_calls_vs_deals")


managers(current())
