"""Open pipeline over time: open leads and their amount per day for one pipeline (fct_pipeline_daily_snapshots)."""

from __future__ import annotations

import streamlit as st

from streamlit_app import charts, data
from streamlit_app.context import Context, current, next_month
from streamlit_app.labels import t
from streamlit_app.ui import table


def pipeline_history(ctx: Context) -> None:
    lang = ctx.lang
    if not data.has("fct_pipeline_daily_snapshots"):
        st.info(t(lang, "no_optional_mart", mart="fct_pipeline_daily_snapshots"))
        return
    if ctx.pipeline is None:
        # as on the funnel: without a choice, the main (first created) pipeline
        pipes = data.pipelines(ctx.access, ctx.account_id)
        if pipes.empty:
            st.info(t(lang, "no_pipelines"))
            return
        pipeline_id, pipeline_name = int(pipes["pipeline_id"].iloc[0]), str(pipes["pipeline_name"].iloc[0])
        st.caption(t(lang, "main_pipeline", pipeline=pipeline_name))
    else:
        pipeline_id, pipeline_name = ctx.pipeline
    frame = data.pipeline_snapshots(ctx.access, ctx.account_id, pipeline_id, next_month(ctx.month), ctx.team_id,
                                    ctx.manager_id)
    if frame.empty:
        st.info(t(lang, "no_snapshots", pipeline=pipeline_name, month=ctx.month_text))
        return
    st.subheader(t(lang, "snapshots_heading", pipeline=pipeline_name))
    st.caption(ctx.scope())
    st.caption(t(lang, "snapshots_note"))
    left, right = st.columns(2)
    with left:
        charts.draw(charts.series(frame, "snapshot_day", ["open_leads_count"], lang, mark="line",
                                  colors=[charts.BLUE]), lang, key="chart_snapshots_count")
    with right:
        charts.draw(charts.series(frame, "snapshot_day", ["open_amount"], lang, mark="line", currency=ctx.currency,
                                  colors=[charts.GREEN]), lang, key="chart_snapshots_amount")
    table(frame.sort_values("snapshot_day", ascending=False), "pipeline_snapshots", ctx)


pipeline_history(current())
