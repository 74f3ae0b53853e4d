"""The semantic layer's KPI part, derived from the KPI registry (written by `make kpis`, amokpi/kpi_codegen.py).

`models/semantic/kpi_metrics.yml` holds, for MetricFlow (`mf query`, dbt-metricflow):

- semantic model `manager_kpis` over mart_manager_kpi_monthly (one row per manager and month): a sum
  measure per count or amount KPI, and a measure for each ratio part that is not a KPI column
  (win_rate's closed deals, avg_call_minutes' connected minutes, ...). Team and department figures
  are sums of the manager rows (the marts aggregate the same facts), so every rate is a ratio metric
  of two sums: it is computed from the counts at any grain, never averaged. Figures "to date"
  (customers_to_date_count, ...) are stocks: semi-additive, the month's value is never summed over months;
- semantic model `kpi_facts` over fct_kpi_facts (one row per fact): the percentile and average measures
  of the medians, p90 and means, from the facts, as int_kpi_monthly computes them;
- a metric for every registry KPI, named as its mart column, and the saved queries for the report's
  manager and team KPI tables.

A registry KPI this module cannot place (a new non-count, non-ratio KPI) stops the generator with its
name: add its rule to LEAD_VALUES.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from amokpi.kpis import Kpi

SEMANTIC = Path("models/semantic/kpi_metrics.yml")
MONTH = "month_start"  # the time dimension of both semantic models (metric_time's source)

# The non-additive KPIs that are not ratios, computed from fct_kpi_facts (one row per fact, with the month's
# team) as amokpi.kpi_aggregates() computes them: the aggregation, the expression over the facts (the rows the
# aggregate takes: kpi_aggregates' condition, repeated here; tests/python/test_semantic_layer.py checks every KPI
# against the marts) and, for a percentile, its fraction. A median cannot be re-aggregated from monthly medians.
LEAD_VALUES: dict[str, tuple[str, str, float | None]] = {
    "first_response_minutes_median": ("percentile", "first_response_minutes", 0.5),
    "first_response_minutes_p90": ("percentile", "first_response_minutes", 0.9),
    "first_response_working_minutes_median": ("percentile", "first_response_working_minutes", 0.5),
    "lead_processing_hours": ("average", "case when is_qualified then lead_processing_hours end", None),
    "time_to_close_days": ("average", "case when is_deal_won then time_to_close_days end", None),
    "call_quality_score_avg": ("average", "case when is_win_rate_eligible then call_quality_score end", None),
    "csat_score_avg": ("average", "case when is_win_rate_eligible then csat_score end", None),
}
# Ratio parts that int_kpi_monthly aggregates but the mart does not carry, rebuilt from its columns per manager
# row (a mean times its base is the sum it came from), and whether the part is a stock "to date".
MART_PARTS: dict[str, tuple[str, bool]] = {
    "connected_call_minutes": ("avg_call_minutes * calls_connected_count", False),
    "lifetime_revenue_amount": ("customer_ltv_amount * customers_to_date_count", True),
}
NAME = re.compile(r"[a-z_][a-z0-9_]*")


def is_stock(kpi: Kpi) -> bool:
    """A count "to date" (customers to date): a manager's figures add up, a month's figures do not."""
    return not kpi.is_ratio and not kpi.is_additive and kpi.unit == "count" and kpi.name not in LEAD_VALUES


def _summed_measure(name: str, expr: str | None, stock: bool, description: str) -> dict[str, object]:
    measure: dict[str, object] = {"name": name, "description": description, "agg": "sum"}
    if expr:
        measure["expr"] = expr
    if stock:
        # the month's own value: at quarter grain the quarter's last month, never the sum of the months
        measure["non_additive_dimension"] = {"name": MONTH, "window_choice": "max"}
    return measure


def _meta(kpi: Kpi) -> dict[str, object]:
    return {"config": {"meta": {"unit": kpi.unit, "direction": kpi.direction, "label_ru": kpi.label_ru}}}


def _part(kpi: Kpi, role: str, expression: str, kpis: dict[str, Kpi],
          measures: list[dict[str, object]], metrics: list[dict[str, object]]) -> str:
    """The simple metric a ratio divides: the KPI's own metric when the part is one count column, else a
    measure and metric `<kpi>_<role>` over the registry expression, in the mart's columns."""
    if expression in kpis:
        part = kpis[expression]
        if part.is_ratio or part.name in LEAD_VALUES:
            raise SystemExit(f"{kpi.name}: its {role} {expression} is not a sum the semantic layer can divide")
        return expression
    names = NAME.findall(expression)
    unknown = [n for n in names if n not in kpis and n not in MART_PARTS]
    if unknown:
        raise SystemExit(f"{kpi.name}: its {role} names {unknown}, neither a KPI nor in MART_PARTS")
    expr = NAME.sub(lambda m: f"({MART_PARTS[m.group(0)][0]})" if m.group(0) in MART_PARTS else m.group(0),
                    expression)
    stock = any(MART_PARTS[n][1] if n in MART_PARTS else is_stock(kpis[n]) for n in names)
    name = f"{kpi.name}_{role}"
    measures.append(_summed_measure(name, expr, stock, f"The {role} of {kpi.name}: {expression}."))
    metrics.append({"name": name, "label": f"{kpi.label_en}: {role}", "description": f"The {role} of {kpi.name}: "
                    f"{expression}.", "type": "simple", "type_params": {"measure": name}})
    return name


def semantic_document(kpis: dict[str, Kpi]) -> dict[str, object]:
    manager_measures: list[dict[str, object]] = []
    value_measures: list[dict[str, object]] = []
    metrics: list[dict[str, object]] = []
    parts: list[dict[str, object]] = []
    for kpi in kpis.values():
        if kpi.is_ratio:
            numerator = _part(kpi, "numerator", kpi.numerator or "", kpis, manager_measures, parts)
            denominator = _part(kpi, "denominator", kpi.denominator or "", kpis, manager_measures, parts)
            metrics.append({"name": kpi.name, "label": kpi.label_en, "description": kpi.description, "type": "ratio",
                            "type_params": {"numerator": numerator, "denominator": denominator}, **_meta(kpi)})
            continue
        if kpi.name in LEAD_VALUES:
            agg, expr, fraction = LEAD_VALUES[kpi.name]
            measure: dict[str, object] = {"name": kpi.name, "description": f"The {agg} of {expr} over the facts.",
                                          "agg": agg, "expr": expr}
            if fraction is not None:
                measure["agg_params"] = {"percentile": fraction, "use_discrete_percentile": False}
            value_measures.append(measure)
        elif kpi.is_additive or is_stock(kpi):
            manager_measures.append(_summed_measure(kpi.name, None, is_stock(kpi),
                                                    f"{kpi.name} of mart_manager_kpi_monthly, summed."))
        else:
            raise SystemExit(f"{kpi.name}: no semantic-layer rule (not a sum, a ratio nor in LEAD_VALUES) - "
                             "add it to amokpi/kpi_semantic.py")
        metrics.append({"name": kpi.name, "label": kpi.label_en, "description": kpi.description, "type": "simple",
                        "type_params": {"measure": kpi.name}, **_meta(kpi)})
    month = {"name": MONTH, "type": "time", "description": "First day of the month the KPI credits (account timezone).",
             "type_params": {"time_granularity": "month"}}
    foreign = [{"name": "manager", "type": "foreign", "expr": "manager_id"},
               {"name": "team", "type": "foreign", "expr": "group_id"},
               {"name": "account", "type": "foreign", "expr": "account_id"}]
    semantic_models = [
        {"name": "manager_kpis",
         "description": "mart_manager_kpi_monthly: one row per manager and month. Team (`team`, the amoCRM group the "
                        "manager had that month) and department figures are sums of these rows, rates ratios of "
                        "those sums.",
         "model": "ref('mart_manager_kpi_monthly')",
         "defaults": {"agg_time_dimension": MONTH},
         "primary_entity": "manager_month",
         "entities": foreign,
         "dimensions": [month,
                        {"name": "manager_name", "type": "categorical", "description": "The manager's name."},
                        {"name": "group_name", "type": "categorical",
                         "description": "The manager's team (amoCRM group) that month."},
                        {"name": "role_name", "type": "categorical",
                         "description": "The manager's role that month."}],
         "measures": manager_measures},
        {"name": "kpi_facts",
         "description": "fct_kpi_facts: one row per fact a manager KPI aggregates, with the month's team; the "
                        "medians, p90 and means are computed from these facts at any grain.",
         "model": "ref('fct_kpi_facts')",
         "defaults": {"agg_time_dimension": MONTH},
         "primary_entity": "kpi_fact",
         "entities": [*foreign, {"name": "lead", "type": "foreign", "expr": "lead_id"}],
         "dimensions": [month, {"name": "fact_type", "type": "categorical",
                                "description": "call, lead_created, lead_closed, ... (fct_kpi_facts)."}],
         "measures": value_measures},
    ]
    month_group_by = "TimeDimension('metric_time', 'month')"
    saved_queries = [
        {"name": "manager_kpis_by_month",
         "description": "The report's manager KPI table: every registry KPI per manager and month "
                        "(equals mart_manager_kpi_monthly).",
         "query_params": {"metrics": list(kpis),
                          "group_by": [month_group_by, "Entity('account')", "Entity('manager')"]}},
        {"name": "team_kpis_by_month",
         "description": "The report's team KPI table: the KPIs kept per team, per team (amoCRM group) and month "
                        "(equals mart_team_kpi_monthly).",
         "query_params": {"metrics": [kpi.name for kpi in kpis.values() if kpi.is_per_team],
                          "group_by": [month_group_by, "Entity('account')", "Entity('team')"]}},
    ]
    return {"version": 2, "semantic_models": semantic_models, "metrics": metrics + parts,
            "saved_queries": saved_queries}


class _NoAliases(yaml.SafeDumper):
    """Writes a shared entity or dimension out in full in each semantic model (dbt reads no YAML anchors)."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def semantic_text(kpis: dict[str, Kpi], header: str) -> str:
    body = yaml.dump(semantic_document(kpis), Dumper=_NoAliases, sort_keys=False, allow_unicode=True, width=120)
    return f"# {header}\n" + body
