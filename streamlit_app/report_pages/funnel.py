"""Funnel: one pipeline's stages in the month — conversion, drop-off, time in stage, loss reasons and their leads."""

from __future__ import annotations

import streamlit as st

from streamlit_app import charts, columns, data, formatting
from streamlit_app.context import Context, current
from streamlit_app.labels import stage_role_label, t
from streamlit_app.ui import lead_list, table


def funnel(ctx: Context) -> None:
    lang = ctx.lang
    if ctx.pipeline is None:
        # The funnel is drawn for one pipeline: without a choice, the main (first created) one.
        pipes = data.pipelines(ctx.access, ctx.account_id)
        if pipes.empty:
            st.info(t(lang, "no_pipelines"))
            return
        pipeline_id, pipeline_name = int(pipes["pipeline_id"].iloc[0]), str(pipes["pipeline_name"].iloc[0])
        st.caption(t(lang, "main_pipeline", pipeline=pipeline_name))
    else:
        pipeline_id, pipeline_name = ctx.pipeline
    if ctx.manager is not None:
        frame = data.manager_funnel(ctx.access, ctx.account_id, pipeline_id, ctx.month, ctx.manager[0])
    elif ctx.team is not None:
        frame = data.team_funnel(ctx.access, ctx.account_id, pipeline_id, ctx.month, ctx.team[0])
    else:
        frame = data.funnel(ctx.access, ctx.account_id, pipeline_id, ctx.month)
    if frame.empty:
        st.info(t(lang, "no_funnel_data", pipeline=pipeline_name, month=ctx.month_text))
        return
    st.subheader(f"{pipeline_name} · {ctx.month_text}")
    st.caption(ctx.scope())
    if ctx.team is not None and ctx.manager is None:
        st.caption(t(lang, "team_funnel_note"))
    shown = frame.assign(stage_role=frame["stage_role"].map(lambda role: stage_role_label(lang, role)))

    reached = "leads_reached_count" if "leads_reached_count" in frame.columns else "leads_entered_count"
    funnel_rows = frame[~frame["stage_role"].isin(["lost"])]
    if funnel_rows[reached].notna().any():
        st.subheader(t(lang, "funnel_chart"))
        # with horizontal=True, x_label names the stage axis (`x`) and y_label the counts
        charts.draw(charts.series(funnel_rows, "status_name", [reached], lang, horizontal=True,
                                  colors=[charts.BLUE]), lang, key="chart_funnel")

    st.subheader(t(lang, "stage_table"))
    table(shown, "funnel", ctx)
    stage_leads(ctx, pipeline_id)

    st.subheader(t(lang, "dropoff"))
    counts = ["leads_entered_count", "leads_advanced_count", "leads_lost_count"]
    # entered blue, advanced green, lost red, in the order of `counts`, side by side
    charts.draw(charts.series(frame, "status_name", counts, lang, colors=[charts.BLUE, charts.GREEN, charts.RED],
                              horizontal=True, y_title=t(lang, "chart_leads")), lang, key="chart_dropoff")

    if "median_hours_in_stage" in frame.columns and frame["median_hours_in_stage"].notna().any():
        st.subheader(t(lang, "time_in_stage"))
        hours = ["median_hours_in_stage", "p90_hours_in_stage"]
        charts.draw(charts.series(frame, "status_name", hours, lang, colors=[charts.BLUE, charts.GREY],
                                  horizontal=True, y_title=t(lang, "time_in_stage")), lang, key="chart_time_in_stage")

    st.subheader(t(lang, "loss_reasons"))
    if not data.has("mart_funnel_loss_reasons"):
        st.info(t(lang, "no_optional_mart", mart="mart_funnel_loss_reasons"))
        return
    if ctx.team is not None or ctx.manager is not None:
        st.caption(t(lang, "loss_reasons_scope"))
    reasons = data.loss_reasons(ctx.access, ctx.account_id, pipeline_id, ctx.month)
    if reasons.empty:
        st.info(t(lang, "no_loss_reasons", month=ctx.month_text))
        return
    by_reason = reasons.groupby("loss_reason_name", dropna=False, sort=False)["leads_lost_count"].sum()
    charts.draw(charts.series(by_reason.reset_index(), "loss_reason_name", ["leads_lost_count"], lang,
                              horizontal=True, colors=[charts.RED]), lang, key="chart_loss_reasons")
    table(reasons, "loss_reasons", ctx)
    loss_reason_leads(ctx, pipeline_id)


def stage_leads(ctx: Context, pipeline_id: int) -> None:
    """Pick a stage and one of its counts (entered, advanced, lost …): the leads it counted."""
    lang = ctx.lang
    st.subheader(t(lang, "leads_drill"))
    if not data.has("fct_funnel_stage_leads") or not data.has("fct_leads"):
        st.info(t(lang, "leads_drill_missing"))
        return
    options = data.stage_lead_counts(ctx.access, ctx.account_id, pipeline_id, ctx.month, ctx.manager_id)
    if options.empty:
        st.info(t(lang, "leads_drill_empty", month=ctx.month_text))
        return
    names = dict(zip(options["status_id"], options["status_name"], strict=True))
    left, right = st.columns(2)
    status = left.selectbox(t(lang, "leads_drill_stage"), list(dict.fromkeys(options["status_id"])),
                            format_func=lambda s: str(names.get(s, s)), key=f"drill_stage_{pipeline_id}")
    counts = list(options.loc[options["status_id"] == status, "kpi_name"])
    count = right.selectbox(t(lang, "leads_drill_count"), counts, format_func=lambda k: columns.label(str(k), lang),
                            key=f"drill_count_{pipeline_id}")
    lead_list(data.stage_leads(ctx.access, ctx.account_id, pipeline_id, int(status), ctx.month, ctx.manager_id,
                               str(count)), f"stage_leads_{pipeline_id}", ctx)


def loss_reason_leads(ctx: Context, pipeline_id: int) -> None:
    """Pick one of the month's loss reasons: the leads the loss-reasons table counts for it, over all stages."""
    lang = ctx.lang
    st.subheader(t(lang, "loss_leads"))
    if not data.has("fct_leads") or not data.has_columns("fct_leads", data.LOSS_LEAD_COLUMNS):
        st.info(t(lang, "loss_leads_missing"))
        return
    options = data.loss_reason_options(ctx.access, ctx.account_id, pipeline_id, ctx.month)
    if options.empty:
        st.info(t(lang, "no_loss_reasons", month=ctx.month_text))
        return
    names = dict(zip(options["loss_reason_id"].astype(int), options["loss_reason_name"], strict=True))
    counts = dict(zip(options["loss_reason_id"].astype(int), options["leads_lost_count"], strict=True))
    reason = st.selectbox(
        t(lang, "loss_leads_reason"), list(names), key=f"drill_loss_{pipeline_id}",
        format_func=lambda r: t(lang, "loss_leads_option", reason=names[r], n=formatting.number(counts[r], lang)))
    st.caption(t(lang, "loss_leads_note", month=ctx.month_text))
    lead_list(data.loss_reason_leads(ctx.access, ctx.account_id, pipeline_id, ctx.month, int(reason)),
              f"loss_leads_{pipeline_id}", ctx)


funnel(current())
