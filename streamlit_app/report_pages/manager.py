"""Manager drill-down: one manager's month against the previous one and the plan, monthly and weekly trends.

With a pipeline chosen, the KPIs-by-month table shows that pipeline's lead KPIs (mart_manager_pipeline_kpi_monthly);
the cards, plan, charts, scorecard and lead lists stay across every pipeline, and a note says so.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from streamlit_app import charts, columns, data
from streamlit_app.context import Context, current, next_month
from streamlit_app.labels import t
from streamlit_app.ui import (
    cards,
    lead_list,
    month_rows,
    plan_cards,
    scorecard_kinds,
    table,
)


def manager(ctx: Context) -> None:
    lang = ctx.lang
    if ctx.pipeline is not None:
        by_pipeline = data.has(data.PIPELINE_KPI_MART)
        st.caption(t(lang, "manager_pipeline_note" if by_pipeline else "pipeline_kpis_missing",
                     pipeline=ctx.pipeline[1]))
    if ctx.manager is None:
        # the manager who needs help: the first of the first screen's ranking (plan fulfilment, then alerts)
        board = data.manager_ranking(ctx.access, ctx.account_id, ctx.month, ctx.team_id)
        if board.empty:
            st.info(t(lang, "no_manager_data", month=ctx.month_text))
            return
        chosen = (int(board["manager_id"].iloc[0]), str(board["manager_name"].iloc[0]))
        st.caption(t(lang, "drill_behind", manager=chosen[1]))
    else:
        chosen = ctx.manager
    manager_id, name = chosen
    st.subheader(f"{name} · {ctx.month_text}")
    kpis = data.manager_kpis(ctx.access, ctx.account_id, manager_id)
    row, before = month_rows(kpis, ctx.month)
    if row is None:
        st.info(t(lang, "no_manager_data", month=ctx.month_text))
        return
    cards(row, before, data.KPI_COLUMNS, ctx)
    plan_cards(row, ctx)

    history = kpis[kpis["month_start"] <= ctx.month].sort_values("month_start")
    st.subheader(t(lang, "trend_revenue"))
    money = ("revenue_amount", "plan_revenue_amount")
    charts.draw(charts.series(history, "month_start", money, lang, currency=ctx.currency, mark="line",
                              colors=[charts.BLUE, charts.GREY]), lang, key="chart_trend_revenue")

    weekly = data.manager_weekly(ctx.access, ctx.account_id, manager_id, next_month(ctx.month))
    if not weekly.empty:
        st.subheader(t(lang, "trend_activity"))
        activity = ["calls_count", "meetings_count", "new_leads_count"]
        charts.draw(charts.series(weekly, "week_start", activity, lang, mark="line", x_kind="week",
                                  y_kind="count", y_title=t(lang, "chart_measure")), lang, key="chart_trend_activity")

    monthly_kpis(ctx, manager_id, history)

    score = data.scorecard(ctx.access, ctx.account_id, ctx.month, None, manager_id)
    if not score.empty:
        st.subheader(t(lang, "scorecard_detail"))
        detail = score.drop(columns=["manager_id", "manager_name", "group_name"])
        table(detail, f"scorecard_{manager_id}", ctx, kinds=scorecard_kinds(detail, lang))

    leads_behind(ctx, manager_id)


def monthly_kpis(ctx: Context, manager_id: int, history: pd.DataFrame) -> None:
    """The KPIs by month: across every pipeline, or the chosen pipeline's lead KPIs when the pipeline mart is built."""
    lang = ctx.lang
    st.subheader(t(lang, "monthly_kpis"))
    if ctx.pipeline is None or not data.has(data.PIPELINE_KPI_MART):
        shown = ["month_start", *[c for c in data.TREND_COLUMNS if c in history.columns]]
        table(history[shown].sort_values("month_start", ascending=False), f"manager_{manager_id}", ctx)
        return
    pipeline_id, pipeline_name = ctx.pipeline
    kpis = [c for c in data.TREND_COLUMNS if c in data.pipeline_kpi_columns()]
    st.caption(t(lang, "pipeline_kpis_note", pipeline=pipeline_name,
                 kpis=", ".join(columns.label(c, lang) for c in kpis)))
    by_pipeline = data.manager_pipeline_history(ctx.access, ctx.account_id, manager_id, pipeline_id, ctx.month, kpis)
    if by_pipeline.empty:
        st.info(t(lang, "no_pipeline_manager_history", pipeline=pipeline_name, month=ctx.month_text))
        return
    table(by_pipeline, f"manager_{manager_id}_pipeline_{pipeline_id}", ctx)


def leads_behind(ctx: Context, manager_id: int) -> None:
    """Pick one of the manager's lead counts of the month: the leads it counted."""
    lang = ctx.lang
    st.subheader(t(lang, "leads_drill"))
    if not data.has("fct_kpi_leads") or not data.has("fct_leads"):
        st.info(t(lang, "leads_drill_missing"))
        return
    names = data.lead_kpis(ctx.access, ctx.account_id, ctx.month, manager_id)
    if not names:
        st.info(t(lang, "leads_drill_empty", month=ctx.month_text))
        return
    kpi = st.selectbox(t(lang, "leads_drill_kpi"), names, format_func=lambda k: columns.label(k, lang),
                       key=f"drill_kpi_{manager_id}")
    lead_list(data.kpi_leads(ctx.access, ctx.account_id, ctx.month, manager_id, kpi), f"kpi_leads_{manager_id}", ctx)


manager(current())
