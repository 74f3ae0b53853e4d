"""Marketing: leads, wins, revenue, spend, CAC, marketing ROI and sales profitability by month and lead source."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from streamlit_app import charts, data
from streamlit_app.context import Context, current, previous_month
from streamlit_app.labels import Lang, t
from streamlit_app.ui import cards, table

# the mart's own words for its total and missing-source rows
ALL_SOURCES, NOT_SET = "(all sources)", "(not set)"
# three cards a row, so an amount in English (RUB 2,119,000) is not cut short
CARDS = (("leads_created_count", "deals_won_count", "new_customers_count"),
         ("revenue_amount", "marketing_spend_amount", "cac_amount"),
         ("marketing_roi_rate", "sales_profitability_rate"))


def source_name(source: object, lang: Lang) -> object:
    return {ALL_SOURCES: t(lang, "source_all"), NOT_SET: t(lang, "source_not_set")}.get(str(source), source)


def marketing(ctx: Context) -> None:
    lang = ctx.lang
    if not data.has("mart_marketing_monthly"):
        st.info(t(lang, "no_optional_mart", mart="mart_marketing_monthly"))
        return
    if ctx.pipeline is not None or ctx.team is not None or ctx.manager is not None:
        st.caption(t(lang, "marketing_scope_note"))
    frame = data.marketing(ctx.access, ctx.account_id, ctx.month)
    month = frame[frame["month_start"] == ctx.month]
    if month.empty:
        st.info(t(lang, "no_marketing", month=ctx.month_text))
        return
    frame = frame.assign(lead_source=frame["lead_source"].map(lambda s: source_name(s, lang)))
    totals = frame[frame["is_all_sources"].astype(bool)]
    total = totals[totals["month_start"] == ctx.month]
    before = totals[totals["month_start"] == previous_month(ctx.month)]
    st.subheader(t(lang, "marketing_month", month=ctx.month_text))
    if not total.empty:
        for shown in CARDS:
            cards(total.iloc[0], None if before.empty else before.iloc[0], shown, ctx, per_row=3)

    st.subheader(t(lang, "marketing_by_source"))
    sources = frame[(frame["month_start"] == ctx.month)]
    # the sources by revenue, the all-sources total last
    sources = pd.concat([sources[~sources["is_all_sources"].astype(bool)], sources[sources["is_all_sources"]
                                                                                  .astype(bool)]])
    by_source = sources[~sources["is_all_sources"].astype(bool)]
    if not by_source.empty:
        charts.draw(charts.series(by_source, "lead_source", ["revenue_amount", "marketing_spend_amount"], lang,
                                  currency=ctx.currency, horizontal=True, colors=[charts.GREEN, charts.RED]),
                    lang, key="chart_marketing_sources")
    table(sources.drop(columns=["month_start", "is_all_sources"]), "marketing_sources", ctx)

    history = totals.sort_values("month_start")
    if len(history) > 1:
        st.subheader(t(lang, "marketing_trend"))
        left, right = st.columns(2)
        with left:
            charts.draw(charts.series(history, "month_start", ["leads_created_count", "deals_won_count",
                                                               "new_customers_count"], lang, mark="line"),
                        lang, key="chart_marketing_counts")
        with right:
            charts.draw(charts.series(history, "month_start", ["cac_amount"], lang, currency=ctx.currency,
                                      mark="line"), lang, key="chart_marketing_cac")
        st.subheader(t(lang, "marketing_returns"))
        charts.draw(charts.series(history, "month_start", ["marketing_roi_rate", "sales_profitability_rate"], lang,
                                  mark="line"), lang, key="chart_marketing_returns")
    st.subheader(t(lang, "marketing_history"))
    table(totals.drop(columns=["lead_source", "is_all_sources"]), "marketing_history", ctx)


marketing(current())
