"""What the report knows about a mart column: its header, its kind (how it is formatted) and its good direction.

A column that is a KPI of the registry (`amokpi.kpis.registry()`) takes all three from there; the few
other figure columns the pages show are named once in `OTHER_KINDS`. Nothing is guessed from a name.
"""

from __future__ import annotations

import re
from typing import Literal

from amokpi.kpis import Kpi, registry
from streamlit_app.labels import Lang, t

# Figures that are not registry KPIs (funnel stages, scorecard, alerts, checks) and the report's dates.
OTHER_KINDS: dict[str, str] = {
    # funnel and pipeline marts
    "leads_created_count": "count", "leads_entered_count": "count", "leads_advanced_count": "count",
    "leads_lost_count": "count", "cohort_leads_count": "count", "leads_reached_count": "count",
    "open_leads_count": "count", "stage_conversion_rate": "rate", "cumulative_conversion_rate": "rate",
    "median_hours_in_stage": "hours", "p90_hours_in_stage": "hours", "pipeline_open_amount": "money",
    "open_amount": "money", "avg_sales_cycle_days": "days", "loss_reason_share": "rate",
    # scorecard and comparison (weights are fractions of the total score)
    "weight": "rate", "attainment": "rate", "weighted_points": "score", "total_score": "score",
    "score_rank": "count", "kpi_met_rate": "rate", "is_kpi_met": "flag",
    # alerts, data quality
    "lead_id": "id", "metric_value": "number", "threshold_value": "number",
    "checks_count": "count", "failed_count": "count", "warned_count": "count", "failing_rows": "count",
    "rows_checked": "count",
    # periods and times (times are converted to the account timezone before they are shown)
    "month_start": "month", "week_start": "date", "detected_at": "datetime", "checked_at": "datetime",
    # the first screen and the lead lists
    "team_revenue_amount": "money", "team_win_rate": "rate", "alerts_count": "count", "price_amount": "money",
    "created_at": "datetime", "won_at": "datetime", "lost_at": "datetime",
    # marketing, onboarding, targets, snapshots
    "marketing_spend_amount": "money", "sales_cost_amount": "money",
    "cac_amount": "money", "marketing_roi_rate": "rate", "sales_profitability_rate": "rate", "is_all_sources": "flag",
    "hired_on": "date", "is_hire_date_inferred": "flag", "first_month_at_median": "month", "onboarding_days": "count",
    "is_capped_by_best": "flag", "managers_count": "count", "values_count": "count", "basis_from_month": "month",
    "basis_to_month": "month", "target_month_start": "month", "snapshot_day": "date",
    "first_response_minutes": "minutes",  # the no-first-response alert's metric
}

# Keys the pages need for filtering, not figures a reader wants: hidden in tables, kept in the CSV.
HIDDEN = ("is_team_average", "account_id", "manager_id", "group_id", "pipeline_id", "status_id")

DeltaColor = Literal["normal", "inverse", "off"]


def kpi(column: str) -> Kpi | None:
    return registry().get(column)


_TERM = re.compile(r"[a-z_][a-z0-9_]*")
# figures outside the registry whose gaps have a known reason: a rate over entries, a time over visits
_OTHER_GAPS = {"stage_conversion_rate": "gap_no_base", "cumulative_conversion_rate": "gap_no_base",
               "loss_reason_share": "gap_no_base", "median_hours_in_stage": "gap_no_events",
               "p90_hours_in_stage": "gap_no_events", "team_win_rate": "gap_no_base", "attainment": "gap_no_target"}


def gap_reason(column: str, lang: Lang) -> str | None:
    """Why a figure of `column` can be empty, in a word or two for its cell (None: a plain dash). From the
    registry: a ratio is empty when its denominator is 0 (named when it is one KPI), a plan when there is
    none, a median or average time when nothing happened to measure."""
    found = kpi(column)
    if found is None:
        return t(lang, _OTHER_GAPS[column]) if column in _OTHER_GAPS else None
    terms = _TERM.findall(found.denominator or "")
    if column.startswith("plan_") or any(term.startswith("plan_") for term in terms):
        return t(lang, "gap_no_plan")
    if len(terms) == 1 and terms[0] in registry():
        return t(lang, "gap_zero_base", base=label(terms[0], lang))
    if terms:
        return t(lang, "gap_no_base")
    if found.unit in ("minutes", "hours", "days", "score"):
        return t(lang, "gap_no_events")
    return None


def label(column: str, lang: Lang) -> str:
    found = kpi(column)
    return found.label(lang) if found is not None else t(lang, column)


def kind(column: str) -> str | None:
    """The registry unit of a KPI, the listed kind of another figure, or None (the formatter looks at dtype)."""
    found = kpi(column)
    return found.unit if found is not None else OTHER_KINDS.get(column)


def kinds(columns: list[str]) -> dict[str, str]:
    return {c: k for c in columns if (k := kind(c)) is not None}


def delta_color(column: str) -> DeltaColor:
    """A rise is green for `up` KPIs, red for `down` ones (a slower first response), grey for `none`."""
    found = kpi(column)
    if found is None or found.direction == "up":
        return "normal"
    return "inverse" if found.direction == "down" else "off"


# Enumerations the marts spell as codes: shown in words (labels key `<prefix><value>`), raw in the downloads.
ENUMS: dict[str, str] = {"severity": "severity_", "direction": "direction_", "status": "status_",
                         "alert_type": "", "scorecard_role": "role_", "tool": "tool_"}


def enum_text(column: str, value: object, lang: Lang) -> str:
    """A code of an enumeration column in the reader's words; an unknown code as it is."""
    key = f"{ENUMS[column]}{value}"
    text = t(lang, key)
    return str(value) if text == key else text


def is_cohort(column: str) -> bool:
    """A KPI of the month's new-lead cohort (the registry's ratios over new leads, and their numerators):
    its value keeps growing for a month or two after the month ends."""
    cohort = {k.name for k in registry().values() if k.denominator == "new_leads_count"}
    cohort |= {k.numerator for k in registry().values() if k.name in cohort and k.numerator}
    return column in cohort
