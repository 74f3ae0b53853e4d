"""What a reader of the report must never see: a column or KPI key, Python's None, the other language,
English number formats in the Russian report. Shared by the AppTest and the browser tests.

Data values (manager, team, pipeline, stage, source and loss-reason names, lead names, the account's
timezone) are the account's own words in whatever language it keeps them: they are taken from the marts
and removed from the text before it is checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import duckdb

SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё]+")
# proper nouns, brands, units and abbreviations a Russian reader reads as they are; Streamlit's own
# "Skip to main content" link; the language switch, labelled in both languages on purpose
RU_ALLOWED = {"amoCRM", "KPI", "CAC", "ROI", "CSV", "Excel", "dbt", "Great", "Expectations", "RUB", "SLA", "Language",
              "English", "Skip", "to", "main", "content"}
EN_ALLOWED = {"Язык", "Русский"}
_DATES = re.compile(r"\b\d{1,2}\.\d{2}(?:\.\d{4})?\b")  # 31.10 and 31.10.2026 are Russian dates, not decimals

_NAME_SQL = {
    "mart_manager_kpi_monthly": ("manager_name", "group_name"),
    "mart_funnel_stages": ("pipeline_name", "status_name"),
    "mart_funnel_loss_reasons": ("loss_reason_name", "status_name"),
    "mart_marketing_monthly": ("lead_source",),
    "mart_alerts": ("lead_name", "manager_name", "pipeline_name", "status_name"),
    "fct_leads": ("lead_name", "pipeline_name", "status_name", "loss_reason_name", "manager_name"),
    "dim_managers": ("manager_name", "group_name"),
    "dim_accounts": ("timezone",),
}


def data_values(path: Path) -> list[str]:
    """The account's own names the report shows as they are, longest first (so a name inside another goes last)."""
    values: set[str] = set()
    with duckdb.connect(str(path), read_only=True) as con:
        tables = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
        for table, columns in _NAME_SQL.items():
            if table not in tables:
                continue
            for column in columns:
                try:
                    rows = con.execute(f"select distinct {column} from marts.{table} where {column} is not null")
                except duckdb.Error:
                    continue
                values.update(str(r[0]) for r in rows.fetchall())
    return sorted(values, key=len, reverse=True)


def problems(texts: Iterable[str], lang: str, values: Iterable[str] = ()) -> list[str]:
    """Every piece of `texts` a reader of `lang` should not see."""
    text = "\n".join(str(t) for t in texts)
    for value in values:
        text = text.replace(value, " ")
    found: list[str] = []
    if re.search(r"\bNone\b|\bnan\b|\bNaN\b|\bNaT\b|<NA>", text):
        found.append("None/nan")
    found += [f"key: {m}" for m in SNAKE_CASE.findall(text)]
    if lang == "ru":
        found += [f"latin: {w}" for w in sorted(set(LATIN_WORD.findall(text)) - RU_ALLOWED)]
        plain = _DATES.sub(" ", text)
        found += [f"english number: {m}" for m in re.findall(r"\d,\d{3}\b|\d\.\d", plain)]
    else:
        found += [f"cyrillic: {w}" for w in sorted(set(CYRILLIC_WORD.findall(text)) - EN_ALLOWED)]
        found += [f"russian number: {m}" for m in re.findall(r"\d,\d(?!\d{2}\b)|\d[\u00a0\u202f]\d{3}\b", text)]
    return found
