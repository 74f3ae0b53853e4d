"""Manager drill-down: one manager's month against the previous one and the plan, monthly and weekly trends."""

from __future__ import annotations

import streamlit as st

from streamlit_app import charts, data
from streamlit_app.context import Context, current, next_month
from streamlit_app.labels import t
from streamlit_app.ui import cards, month_rows, pipeline_not_applicable, plan_cards, scorecard_kinds, table


def manager(ctx: Context) -> None:
    lang = ctx.lang
    pipeline_not_applicable(ctx)
    if ctx.manager is None:
        board = data.managers(ctx.account_id, ctx.month, ctx.team_id, None)
        if board.empty:
            st.info(t(lang, "no_manager_data", month=ctx.month_text))
            return
        chosen = (int(board["manager_id"].iloc[0]), str(board["manager_name"].iloc[0]))
        st.caption(t(lang, "drill_default", manager=chosen[1]))
    else:
        chosen = ctx.manager
    manager_id, name = chosen
    st.subheader(f"{name} · {ctx.month_text}")
    kpis = data.manager_kpis(ctx.account_id, manager_id)
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

    weekly = data.manager_weekly(ctx.account_id, manager_id, next_month(ctx.month))
    if not weekly.empty:
        st.subheader(t(lang, "trend_activity"))
        activity = ["calls_count", "meetings_count", "new_leads_count"]
        charts.draw(charts.series(weekly, "week_start", activity, lang, mark="line", x_kind="week",
                                  y_kind="count", y_title=t(lang, "chart_measure")), lang, key="chart_trend_activity")

    st.subheader(t(lang, "monthly_kpis"))
    shown = ["month_start", *[c for c in data.TREND_COLUMNS if c in history.columns]]
    table(history[shown].sort_values("month_start", ascending=False), f"manager_{manager_id}", ctx)

    score = data.scorecard(ctx.account_id, ctx.month, None, manager_id)
    if not score.empty:
        st.subheader(t(lang, "scorecard_detail"))
        detail = score.drop(columns=["manager_id", "manager_name", "group_name"])
        table(detail, f"scorecard_{manager_id}", ctx, kinds=scorecard_kinds(detail, lang))


manager(current())
