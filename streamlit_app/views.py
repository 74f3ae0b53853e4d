"""The report's pages. Each takes the filter context and draws what the marts hold for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import altair as alt
import pandas as pd
import streamlit as st

from streamlit_app import data
from streamlit_app.labels import Lang, currency_symbol, fmt_number, month_label, stage_role_label, t
from streamlit_app.ui import cards, is_null, plan_cards, previous_month, table


@dataclass(frozen=True)
class Context:
    account_id: int
    currency: str
    timezone: str
    lang: Lang
    month: date
    pipeline: tuple[int, str] | None
    team: tuple[int, str] | None
    manager: tuple[int, str] | None

    @property
    def team_id(self) -> int | None:
        return None if self.team is None else self.team[0]

    @property
    def manager_id(self) -> int | None:
        return None if self.manager is None else self.manager[0]

    @property
    def month_text(self) -> str:
        return month_label(self.lang, self.month)

    def scope(self) -> str:
        if self.manager is not None:
            return t(self.lang, "scope_manager", manager=self.manager[1])
        if self.team is not None:
            return t(self.lang, "scope_team", team=self.team[1])
        return t(self.lang, "scope_department")


def local_time(value: object, timezone: str) -> pd.Timestamp | None:
    """A UTC timestamp from the warehouse, shown as wall-clock time in the account timezone."""
    if is_null(value):
        return None
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.tz_convert(ZoneInfo(timezone)).tz_localize(None)


def _rows(frame: pd.DataFrame, month: date) -> tuple[pd.Series | None, pd.Series | None]:
    current = frame[frame["month_start"] == month]
    previous = frame[frame["month_start"] == previous_month(month)]
    return (None if current.empty else current.iloc[0]), (None if previous.empty else previous.iloc[0])


def _month_labels(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    return frame.assign(month=frame["month_start"].map(lambda m: month_label(lang, m)))


# ---------------------------------------------------------------- overview


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
    row, before = _rows(kpis, ctx.month) if not kpis.empty else (None, None)
    if row is None:
        st.info(t(lang, "no_data_filters" if ctx.team or ctx.manager else "no_month_data", month=ctx.month_text))
        return
    if before is None:
        st.caption(t(lang, "no_previous"))
    cards(row, before, data.KPI_COLUMNS, ctx.currency, lang)  # a team's fallback frame holds the additive ones
    plan_cards(row, ctx.currency, lang)

    if ctx.pipeline is not None:
        pipe = data.pipeline_month(ctx.account_id, ctx.pipeline[0]).rename(
            columns={"pipeline_open_amount": "open_amount"})
        if not pipe.empty:
            current, previous = _rows(pipe, ctx.month)
            if current is not None:
                st.subheader(t(lang, "pipeline_section", pipeline=ctx.pipeline[1]))
                cards(current, previous, ("leads_created_count", "deals_won_count", "revenue_amount",
                                          "open_amount"), ctx.currency, lang, prefix="pipeline_")

    st.subheader(t(lang, "revenue_by_month"))
    history = kpis[kpis["month_start"] <= ctx.month].sort_values("month_start")
    chart = _month_labels(history, lang)
    st.bar_chart(chart, x="month", y="revenue_amount", sort=False, x_label=t(lang, "month"),
                 y_label=f"{t(lang, 'revenue_amount')}, {currency_symbol(ctx.currency)}")
    shown = [c for c in ("month_start", *data.KPI_COLUMNS, *data.PLAN_COLUMNS, "new_leads_count")
             if c in history.columns]
    table(history[shown].sort_values("month_start", ascending=False), "overview", ctx.currency, lang)


# ---------------------------------------------------------------- funnel


def funnel(ctx: Context) -> None:
    lang = ctx.lang
    if ctx.pipeline is None:
        # The funnel is drawn for one pipeline: without a choice, the main (first created) one.
        pipes = data.pipelines(ctx.account_id)
        if pipes.empty:
            st.info(t(lang, "no_pipelines"))
            return
        pipeline_id, pipeline_name = int(pipes["pipeline_id"].iloc[0]), str(pipes["pipeline_name"].iloc[0])
        st.caption(t(lang, "main_pipeline", pipeline=pipeline_name))
    else:
        pipeline_id, pipeline_name = ctx.pipeline
    if ctx.manager is not None:
        frame = data.manager_funnel(ctx.account_id, pipeline_id, ctx.month, ctx.manager[0])
    elif ctx.team is not None:
        frame = data.team_funnel(ctx.account_id, pipeline_id, ctx.month, ctx.team[0])
    else:
        frame = data.funnel(ctx.account_id, pipeline_id, ctx.month)
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
        st.bar_chart(funnel_rows, x="status_name", y=reached, horizontal=True, sort=False,
                     x_label=t(lang, "status_name"), y_label=t(lang, reached))

    st.subheader(t(lang, "stage_table"))
    table(shown, "funnel", ctx.currency, lang)

    st.subheader(t(lang, "dropoff"))
    counts = ["leads_entered_count", "leads_advanced_count", "leads_lost_count"]
    chart = frame[["status_name", *counts]].rename(columns={c: t(lang, c) for c in counts})
    # entered blue, advanced green, lost red, in the order of `counts`
    st.bar_chart(chart, x="status_name", y=[t(lang, c) for c in counts], sort=False, stack=False,
                 color=["#1f77b4", "#2ca02c", "#d62728"], x_label=t(lang, "status_name"))

    if "median_hours_in_stage" in frame.columns and frame["median_hours_in_stage"].notna().any():
        st.subheader(t(lang, "time_in_stage"))
        hours = ["median_hours_in_stage", "p90_hours_in_stage"]
        timing = frame[["status_name", *hours]].rename(columns={c: t(lang, c) for c in hours})
        st.bar_chart(timing, x="status_name", y=[t(lang, c) for c in hours], sort=False, stack=False,
                     x_label=t(lang, "status_name"))

    st.subheader(t(lang, "loss_reasons"))
    if not data.has("mart_funnel_loss_reasons"):
        st.info(t(lang, "no_optional_mart", mart="mart_funnel_loss_reasons"))
        return
    if ctx.team is not None or ctx.manager is not None:
        st.caption(t(lang, "loss_reasons_scope"))
    reasons = data.loss_reasons(ctx.account_id, pipeline_id, ctx.month)
    if reasons.empty:
        st.info(t(lang, "no_loss_reasons", month=ctx.month_text))
        return
    by_reason = reasons.groupby("loss_reason_name", dropna=False, sort=False)["leads_lost_count"].sum()
    st.bar_chart(by_reason.reset_index(), x="loss_reason_name", y="leads_lost_count", horizontal=True,
                 x_label=t(lang, "loss_reason_name"), y_label=t(lang, "leads_lost_count"))
    table(reasons, "loss_reasons", ctx.currency, lang)


# ---------------------------------------------------------------- managers


def _pipeline_not_applicable(ctx: Context) -> None:
    # manager KPIs and scores are per manager across pipelines; say so rather than filter silently
    if ctx.pipeline is not None:
        st.caption(t(ctx.lang, "all_pipelines_note", pipeline=ctx.pipeline[1]))


def managers(ctx: Context) -> None:
    lang = ctx.lang
    _pipeline_not_applicable(ctx)
    frame = data.managers(ctx.account_id, ctx.month, ctx.team_id, ctx.manager_id)
    if frame.empty:
        st.info(t(lang, "no_manager_data", month=ctx.month_text))
        return
    st.subheader(f"{t(lang, 'leaderboard')} · {ctx.month_text}")
    st.caption(ctx.scope())
    table(frame, "leaderboard", ctx.currency, lang)

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
        table(compared, "comparison", ctx.currency, lang)

    st.subheader(t(lang, "calls_vs_deals"))
    st.scatter_chart(frame, x="calls_count", y="deals_won_count", color="manager_name",
                     x_label=t(lang, "calls_count"), y_label=t(lang, "deals_won_count"))


def manager(ctx: Context) -> None:
    """One manager's month against the previous one and the plan, with monthly and weekly trends."""
    lang = ctx.lang
    _pipeline_not_applicable(ctx)
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
    row, before = _rows(kpis, ctx.month) if not kpis.empty else (None, None)
    if row is None:
        st.info(t(lang, "no_manager_data", month=ctx.month_text))
        return
    cards(row, before, data.KPI_COLUMNS, ctx.currency, lang)
    plan_cards(row, ctx.currency, lang)

    history = kpis[kpis["month_start"] <= ctx.month].sort_values("month_start")
    st.subheader(t(lang, "trend_revenue"))
    lines = history[["month_start", "revenue_amount", "plan_revenue_amount"]]
    lines = lines.rename(columns={c: t(lang, c) for c in ("revenue_amount", "plan_revenue_amount")})
    st.line_chart(lines, x="month_start", y=[t(lang, "revenue_amount"), t(lang, "plan_revenue_amount")],
                  x_label=t(lang, "month"), y_label=currency_symbol(ctx.currency))

    weekly = data.manager_weekly(ctx.account_id, manager_id, _next_month(ctx.month))
    if not weekly.empty:
        st.subheader(t(lang, "trend_activity"))
        activity = ["calls_count", "meetings_count", "new_leads_count"]
        st.line_chart(weekly.rename(columns={c: t(lang, c) for c in activity}), x="week_start",
                      y=[t(lang, c) for c in activity], x_label=t(lang, "week_start"))

    st.subheader(t(lang, "monthly_kpis"))
    shown = ["month_start", *[c for c in data.TREND_COLUMNS if c in history.columns]]
    table(history[shown].sort_values("month_start", ascending=False), f"manager_{manager_id}", ctx.currency, lang)

    score = data.scorecard(ctx.account_id, ctx.month, None, manager_id)
    if not score.empty:
        st.subheader(t(lang, "scorecard_detail"))
        table(score.drop(columns=["manager_id", "manager_name", "group_name"]), f"scorecard_{manager_id}",
              ctx.currency, lang)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


# ---------------------------------------------------------------- scorecard


def scorecard(ctx: Context) -> None:
    lang = ctx.lang
    _pipeline_not_applicable(ctx)
    if not data.has("mart_manager_scorecard"):
        st.info(t(lang, "no_optional_mart", mart="mart_manager_scorecard"))
        return
    frame = data.scorecard(ctx.account_id, ctx.month, ctx.team_id, ctx.manager_id)
    if frame.empty:
        st.info(t(lang, "no_scorecard", month=ctx.month_text))
        return
    st.caption(ctx.scope())
    kpi_names = {k: t(lang, k) for k in frame["kpi"].unique()}
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
    kpi_config = {k: st_percent(kpi_names[k]) for k in kpi_names}
    table(matrix, "scorecard_matrix", ctx.currency, lang, **kpi_config)

    st.subheader(t(lang, "scorecard_detail"))
    table(frame.drop(columns=["manager_id"]), "scorecard", ctx.currency, lang)


def role_label(lang: Lang, role: object) -> object:
    return None if is_null(role) else t(lang, f"role_{role}")


def st_percent(label: str) -> object:
    return st.column_config.NumberColumn(label, format="percent")


# ---------------------------------------------------------------- alerts


def alerts(ctx: Context) -> None:
    lang = ctx.lang
    if not data.has("mart_alerts"):
        st.info(t(lang, "no_optional_mart", mart="mart_alerts"))
        return
    frame = data.alerts(ctx.account_id, ctx.month, None if ctx.pipeline is None else ctx.pipeline[0],
                        ctx.team_id, ctx.manager_id)
    st.caption(ctx.scope() + (f" · {ctx.pipeline[1]}" if ctx.pipeline else ""))
    if frame.empty:
        st.info(t(lang, "no_alerts", month=ctx.month_text))
        return
    counts = frame.groupby("alert_type", sort=False).size()
    slots = st.columns(len(counts) + 1)
    slots[0].metric(t(lang, "alerts_total"), fmt_number(len(frame), lang), border=True)
    for slot, (kind, count) in zip(slots[1:], counts.items(), strict=True):
        slot.metric(t(lang, str(kind)), fmt_number(count, lang), border=True)
    shown = frame.assign(
        severity=frame["severity"].map(lambda s: t(lang, str(s))),
        alert_type=frame["alert_type"].map(lambda a: t(lang, str(a))),
        detected_at=frame["detected_at"].map(lambda v: local_time(v, ctx.timezone)),
    )
    judged = frame["month_start"].dropna()
    if not judged.empty:
        st.caption(t(lang, "alerts_month", month=month_label(lang, judged.max())))
    st.caption(t(lang, "timezone_note", tz=ctx.timezone))
    table(shown, "alerts", ctx.currency, lang)


# ---------------------------------------------------------------- data quality


def _local_columns(frame: pd.DataFrame, timezone: str) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:  # timestamps are UTC in the warehouse
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = frame[column].map(lambda v: local_time(v, timezone))
    return frame


def quality(ctx: Context) -> None:
    lang = ctx.lang
    loaded = data.last_load()
    st.metric(t(lang, "last_load"),
              t(lang, "last_load_missing") if loaded is None
              else local_time(loaded, ctx.timezone).strftime("%Y-%m-%d %H:%M"),  # type: ignore[union-attr]
              border=True)
    st.caption(t(lang, "timezone_note", tz=ctx.timezone))
    latest = data.quality_latest()
    if latest is None:
        st.info(t(lang, "quality_missing"))
    elif latest.empty:
        st.info(t(lang, "quality_empty"))
    else:
        st.subheader(t(lang, "quality_latest"))
        if {"tool", "status"} <= set(latest.columns):
            tools = list(dict.fromkeys(latest["tool"]))
            slots = st.columns(max(len(tools), 1))
            for slot, tool in zip(slots, tools, strict=False):
                rows = latest[latest["tool"] == tool]
                failed = int((rows["status"] == "fail").sum())
                warned = int((rows["status"] == "warn").sum())
                slot.metric(t(lang, "checks_summary", tool=t(lang, f"tool_{tool}")),
                            f"{fmt_number(failed, lang)} / {fmt_number(len(rows), lang)}",
                            t(lang, "warned", n=warned) if warned else None, delta_color="off", border=True)
        table(_local_columns(latest, ctx.timezone), "quality_latest", ctx.currency, lang, localise=False)
        history = data.quality_history()
        if not history.empty:
            st.subheader(t(lang, "quality_history"))
            table(_local_columns(history, ctx.timezone), "quality_history", ctx.currency, lang)

    st.subheader(t(lang, "quarantine"))
    kept = data.quarantine()
    if kept is None:
        st.info(t(lang, "no_optional_mart", mart="mart_quarantine"))
    elif kept.empty:
        st.success(t(lang, "quarantine_empty"))
    else:
        st.caption(t(lang, "quarantine_note", n=fmt_number(len(kept), lang)))
        table(_local_columns(kept, ctx.timezone), "quarantine", ctx.currency, lang, localise=False)
