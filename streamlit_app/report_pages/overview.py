"""Overview: the month's KPIs against the previous month and the plan, the pipeline's month, revenue by month."""

from __future__ import annotations

import streamlit as st

from streamlit_app import charts, data
from streamlit_app.context import Context, current
from streamlit_app.labels import t
from streamlit_app.ui import cards, month_rows, plan_cards, table


def overview(ctx: Context) -> None:
    lang = ctx.lang
    st.caption(ctx.scope())
    if ctx.manager is not None:
        kpis = data.manager_kpis(ctx.account_id, ctx.manager[0])
    elif ctx.team is not None:
        kpis = data.team_kpis(ctx.account_id, ctx.team[0])
        if "win_rate" not in kpis.columns:
            st.caption(t(lang, "team_rates_note"))
    else:
        kpis = data.department_kpis(ctx.account_id)
    row, before = month_rows(kpis, ctx.month)
    if row is None:
        st.info(t(lang, "no_data_filters" if ctx.team or ctx.manager else "no_month_data", month=ctx.month_text))
        return
    if before is None:
        st.caption(t(lang, "no_previous"))
    cards(row, before, data.KPI_COLUMNS, ctx)  # a team's fallback frame holds the additive ones only
    plan_cards(row, ctx)

    if ctx.pipeline is not None:
        pipe = data.pipeline_month(ctx.account_id, ctx.pipeline[0]).rename(
            columns={"pipeline_open_amount": "open_amount"})
        current_row, previous_row = month_rows(pipe, ctx.month)
        if current_row is not None:
            st.subheader(t(lang, "pipeline_section", pipeline=ctx.pipeline[1]))
            cards(current_row, previous_row, ("leads_created_count", "deals_won_count", "revenue_amount",
                                              "open_amount"), ctx, prefix="pipeline_")

    st.subheader(t(lang, "revenue_by_month"))
    history = kpis[kpis["month_start"] <= ctx.month].sort_values("month_start")
    charts.draw(charts.series(history, "month_start", ["revenue_amount"], lang, currency=ctx.currency,
                              colors=[charts.BLUE]), lang, key="chart_revenue_by_month")
    shown = [c for c in ("month_start", *data.KPI_COLUMNS, *data.PLAN_COLUMNS, "new_leads_count")
             if c in history.columns]
    table(history[shown].sort_values("month_start", ascending=False), "overview", ctx)


overview(current())
