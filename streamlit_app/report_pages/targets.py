"""Scorecard targets: the targets the scorecard suggests for the next month beside the current ones, per role × KPI."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from streamlit_app import charts, columns, data, formatting
from streamlit_app.context import Context, current, next_month
from streamlit_app.labels import t
from streamlit_app.ui import role_label, table

TARGET_VALUES = ("current_target", "suggested_target", "team_percentile_value", "best_manager_average")


def targets(ctx: Context) -> None:
    lang = ctx.lang
    if not data.has("mart_scorecard_target_suggestions"):
        st.info(t(lang, "no_optional_mart", mart="mart_scorecard_target_suggestions"))
        return
    if ctx.team is not None or ctx.manager is not None or ctx.pipeline is not None:
        st.caption(t(lang, "filters_not_applied"))
    target_month = next_month(ctx.month)
    frame = data.target_suggestions(ctx.access, ctx.account_id, target_month)
    if frame.empty:
        st.info(t(lang, "no_targets", month=ctx.month_text))
        return
    st.subheader(t(lang, "targets_heading", month=formatting.month(target_month, lang)))
    st.caption(t(lang, "targets_note", month=ctx.month_text))
    shown = frame.assign(scorecard_role=frame["scorecard_role"].map(lambda r: role_label(lang, r)),
                         direction=frame["direction"].map(lambda d: t(lang, f"direction_{d}")))
    # each row is one KPI: its targets are in the KPI's unit, its name is the registry label
    units = frame["kpi"].map(lambda name: columns.kind(str(name)) or "number")
    kinds: dict[str, object] = {"kpi": lambda name: columns.label(str(name), lang), **dict.fromkeys(TARGET_VALUES,
                                                                                                     units)}
    table(shown.drop(columns=["target_month_start"]), "targets", ctx, kinds=kinds)  # type: ignore[arg-type]

    st.subheader(t(lang, "targets_chart_heading"))
    kpis = list(dict.fromkeys(frame["kpi"]))
    slots = st.columns(3)
    for i, kpi in enumerate(kpis):
        rows = shown[frame["kpi"] == kpi]
        with slots[i % 3]:
            chart = charts.series(pd.DataFrame(rows), "scorecard_role", ["current_target", "suggested_target"], lang,
                                  y_kind=columns.kind(kpi) or "number", currency=ctx.currency, horizontal=True,
                                  x_title=columns.label("scorecard_role", lang),
                                  y_title=charts.title(kpi, lang, ctx.currency), colors=[charts.GREY, charts.BLUE],
                                  legend_columns=1, height=260)  # one height, so the rows of charts line up
            st.markdown(f"**{columns.label(kpi, lang)}**")
            charts.draw(chart, lang, key=f"chart_target_{kpi}")


targets(current())
