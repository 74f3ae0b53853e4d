"""Overview: the period's KPIs (a month, its quarter or the year to date) against the period before and the plan,
the pipeline's month, revenue by month."""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from streamlit_app import charts, data, formatting
from streamlit_app.alert_text import alert_message
from streamlit_app.context import Context, current
from streamlit_app.labels import t
from streamlit_app.ui import cards, month_rows, plan_cards, table


def manager_url(ctx: Context, manager_id: int, name: str) -> str:
    """The manager page with that manager and this month, language and team (the name after `#` is its text)."""
    query: dict[str, object] = {"manager": manager_id, "month": ctx.month.isoformat(), "lang": ctx.lang}
    if ctx.period is not None:
        query["period"] = ctx.period
    if ctx.range_from is not None:
        query["from"] = ctx.range_from.isoformat()
    if ctx.team_id is not None:
        query["team"] = ctx.team_id
    return f"manager?{urlencode(query)}#{name}"


def alerts_text(manager_alerts: pd.DataFrame, lead_counts: pd.DataFrame, ctx: Context) -> dict[int, str]:
    """Each manager's alerts in short words: lead alerts counted by type, manager alerts as their sentence."""
    texts: dict[int, list[str]] = {}
    for row in lead_counts.itertuples():
        texts.setdefault(int(row.manager_id), []).append(
            f"{t(ctx.lang, str(row.alert_type))}: {formatting.number(row.alerts_count, ctx.lang)}")
    for alert in manager_alerts.to_dict("records"):
        if not formatting.is_missing(alert.get("manager_id")):
            texts.setdefault(int(alert["manager_id"]), []).append(alert_message(alert, ctx.lang, ctx.currency))
    return {m: "; ".join(parts) for m, parts in texts.items()}


def who_is_behind(ctx: Context) -> None:
    """The first screen: the period's managers, most behind their plan first, with what their alerts say."""
    lang = ctx.lang
    if ctx.period is None:
        ranking = data.manager_ranking(ctx.access, ctx.account_id, ctx.month, ctx.team_id)
    else:  # the period's plan fulfilment; the alerts stay the month's
        ranking = data.period_ranking(ctx.access, ctx.account_id, ctx.period, (ctx.period_start, ctx.period_end),
                                      ctx.month, ctx.team_id)
    st.subheader(t(lang, "behind_title", month=ctx.period_text))
    if ranking.empty:
        st.info(t(lang, "behind_empty", month=ctx.period_text))
        return
    st.caption(t(lang, "behind_caption"))
    if ctx.period is not None:
        st.caption(t(lang, "behind_period_caption", month=ctx.month_text))
    words = alerts_text(data.alerts(ctx.access, ctx.account_id, ctx.month, None, ctx.team_id, None, leads=False),
                        data.lead_alert_counts(ctx.access, ctx.account_id, ctx.team_id), ctx)
    shown = ranking.assign(
        manager_link=[manager_url(ctx, int(m), str(n)) for m, n in zip(ranking["manager_id"], ranking["manager_name"],
                                                                       strict=True)],
        alerts_text=[words.get(int(m)) or t(lang, "no_alerts_short") for m in ranking["manager_id"]],
    )
    # the why beside the who: fulfilment and alerts first, the figures against the team after them
    first = ["manager_link", "manager_id", "manager_name", "plan_fulfillment_rate", "alerts_count", "alerts_text"]
    shown = shown[[*first, *[c for c in ranking.columns if c not in first]]]
    table(shown, "behind", ctx, kinds={"manager_link": "text", "alerts_text": "text"},
          labels={"manager_name": None, "manager_link": t(lang, "manager_link")},  # type: ignore[dict-item]
          config={"manager_link": st.column_config.LinkColumn(t(lang, "manager_link"), display_text=r"#(.+)$",
                                                              width="medium"),
                  "alerts_text": st.column_config.TextColumn(t(lang, "alerts_text"), width="large")})


def period_rows(ctx: Context) -> tuple[pd.Series | None, pd.Series | None]:
    """The period's row of mart_manager_kpi_periods for the chosen scope, and the period before's (for the change)."""
    assert ctx.period is not None
    before = ctx.previous_period
    frame = data.period_kpis(ctx.access, ctx.account_id, ctx.period, (ctx.period_start, ctx.period_end), before,
                             ctx.team_id, ctx.manager_id)
    rows = {(row["period_start"], row["period_end"]): row for _, row in frame.iterrows()}
    return rows.get((ctx.period_start, ctx.period_end)), rows.get(before)


def overview(ctx: Context) -> None:
    lang = ctx.lang
    st.caption(ctx.scope())
    if ctx.manager is None:
        who_is_behind(ctx)
    if ctx.manager is not None:
        kpis = data.manager_kpis(ctx.access, ctx.account_id, ctx.manager[0])
    elif ctx.team is not None:
        kpis = data.team_kpis(ctx.access, ctx.account_id, ctx.team[0])
        if "win_rate" not in kpis.columns:
            st.caption(t(lang, "team_rates_note"))
    else:
        kpis = data.department_kpis(ctx.access, ctx.account_id)
    if ctx.period is None:
        row, before = month_rows(kpis, ctx.month)
    else:
        row, before = period_rows(ctx)
    if row is None:
        st.info(t(lang, "no_data_filters" if ctx.team or ctx.manager else "no_month_data", month=ctx.period_text))
        return
    if ctx.period is not None:
        st.subheader(ctx.period_text)
        st.caption(t(lang, f"period_{ctx.period}_note", months=formatting.number(row["months_count"], lang)))
    if before is None:
        st.caption(t(lang, "no_previous" if ctx.period is None else f"no_previous_{ctx.period}"))
    elif ctx.period is not None and before["months_count"] != row["months_count"]:
        # a running quarter against a whole one would read as a fall: compare like with like, or not at all
        st.caption(t(lang, "period_not_comparable", months=formatting.number(row["months_count"], lang),
                     before_months=formatting.number(before["months_count"], lang)))
        before = None
    cards(row, before, data.KPI_COLUMNS, ctx)  # a team's fallback frame holds the additive ones only
    plan_cards(row, ctx)

    if ctx.pipeline is not None and ctx.period is not None:
        st.caption(t(lang, "pipeline_monthly_note", pipeline=ctx.pipeline[1], month=ctx.month_text))
    if ctx.pipeline is not None:
        pipe = data.pipeline_month(ctx.access, ctx.account_id, ctx.pipeline[0]).rename(
            columns={"pipeline_open_amount": "open_amount"})
        current_row, previous_row = month_rows(pipe, ctx.month)
        if current_row is not None:
            st.subheader(t(lang, "pipeline_section", pipeline=ctx.pipeline[1]))
            cards(current_row, previous_row, ("leads_created_count", "deals_won_count", "revenue_amount",
                                              "open_amount"), ctx, prefix="pipeline_")

    st.subheader(t(lang, "revenue_by_month"))
    # the months of the period (a month alone: every month up to it, for the trend)
    first = ctx.period_start if ctx.period is not None else kpis["month_start"].min()
    history = kpis[(kpis["month_start"] >= first) & (kpis["month_start"] <= ctx.month)].sort_values("month_start")
    charts.draw(charts.series(history, "month_start", ["revenue_amount"], lang, currency=ctx.currency,
                              colors=[charts.BLUE]), lang, key="chart_revenue_by_month")
    shown = [c for c in ("month_start", *data.KPI_COLUMNS, *data.PLAN_COLUMNS, "new_leads_count")
             if c in history.columns]
    table(history[shown].sort_values("month_start", ascending=False), "overview", ctx)


overview(current())
