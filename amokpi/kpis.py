"""The KPI registry: every manager KPI declared once, in `dbt_project/seeds/kpi_registry.csv`.

One row per KPI column of int_kpi_monthly (and so of the three manager-KPI marts): its Russian and
English label, unit, direction, whether it adds up across managers, the bounds its values keep, and
for a ratio its numerator and denominator; for a count of leads its `lead_condition` (the int_kpi_facts
flags it counts, which int_kpi_monthly sums and fct_kpi_leads lists). Everything else reads it:

- dbt: the seed is a table (`kpi_registry`, published with the marts, so BI tools get the labels and
  units too), and `python -m amokpi.kpi_codegen` turns it into the `amokpi.kpi_registry()` macro the
  models loop over and into the KPI columns of the mart contracts;
- the report: labels, formats and colours (`registry()` below).

Adding a KPI is one row here plus, when it is not a ratio of existing columns, its aggregation in
int_kpi_monthly; `make kpis` regenerates the rest.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from amokpi.settings import PROJECT_ROOT

DOUBLE = "double precision"  # the contract type of a fractional KPI, valid on DuckDB and PostgreSQL
REGISTRY_CSV = PROJECT_ROOT / "dbt_project" / "seeds" / "kpi_registry.csv"

Unit = Literal["count", "money", "rate", "minutes", "hours", "days", "score"]
Direction = Literal["up", "down", "none"]
UNITS: tuple[str, ...] = ("count", "money", "rate", "minutes", "hours", "days", "score")
DIRECTIONS: tuple[str, ...] = ("up", "down", "none")


class RegistryError(ValueError):
    """A registry row that cannot be used; the message names the row and the field."""


@dataclass(frozen=True)
class Kpi:
    name: str
    label_ru: str
    label_en: str
    unit: Unit
    direction: Direction  # up: higher is better; down: lower is better; none: neither
    is_additive: bool  # a team's or the department's value is the sum of its managers'
    is_never_null: bool  # always computed (a count): NULL would be a bug
    is_per_team: bool  # the team rows carry it (plans and customer-to-date figures are not kept per team)
    min_value: float | None
    max_value: float | None
    numerator: str | None  # a ratio KPI: numerator / denominator, NULL when the denominator is 0
    denominator: str | None
    alert_base: str | None  # watched by the comparison alerts; the count the minimum base applies to
    lead_condition: str | None  # a count of leads: the int_kpi_facts flag expression it counts (drill-down)
    is_compared: bool  # shown in the side-by-side comparison mart
    description: str

    @property
    def is_ratio(self) -> bool:
        return self.numerator is not None

    @property
    def data_type(self) -> str:
        """The contract type: counts are whole numbers, everything else a double (spelt `double precision`,
        which DuckDB and PostgreSQL both accept; PostgreSQL has no `double`, and `float` is 4 bytes in DuckDB)."""
        return "bigint" if self.unit == "count" else DOUBLE

    def label(self, lang: str) -> str:
        return self.label_ru if lang == "ru" else self.label_en


def _flag(row: dict[str, str], field: str, line: int) -> bool:
    value = row[field].strip().lower()
    if value not in ("true", "false"):
        raise RegistryError(f"{REGISTRY_CSV.name} line {line}: {field} must be true or false, not {row[field]!r}")
    return value == "true"


def _number(row: dict[str, str], field: str) -> float | None:
    value = row[field].strip()
    return float(value) if value else None


def _text(row: dict[str, str], field: str) -> str | None:
    return row[field].strip() or None


def parse(path: Path) -> dict[str, Kpi]:
    """The registry in file order, checked: a bad row is an error naming its line, never skipped."""
    kpis: dict[str, Kpi] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            name = row["kpi_name"].strip()
            if not name.isidentifier() or name != name.lower():
                raise RegistryError(f"{path.name} line {line}: kpi_name {name!r} is not a lower-case column name")
            if name in kpis:
                raise RegistryError(f"{path.name} line {line}: {name} is declared twice")
            if row["unit"] not in UNITS:
                raise RegistryError(f"{path.name} line {line}: unit {row['unit']!r} is not one of {UNITS}")
            if row["direction"] not in DIRECTIONS:
                raise RegistryError(
                    f"{path.name} line {line}: direction {row['direction']!r} is not one of {DIRECTIONS}")
            numerator, denominator = _text(row, "numerator"), _text(row, "denominator")
            if (numerator is None) != (denominator is None):
                raise RegistryError(f"{path.name} line {line}: {name} needs both a numerator and a denominator")
            if not row["label_ru"].strip() or not row["label_en"].strip() or not row["description"].strip():
                raise RegistryError(f"{path.name} line {line}: {name} needs label_ru, label_en and a description")
            lead_condition = _text(row, "lead_condition") if "lead_condition" in row else None
            if lead_condition is not None and (row["unit"] != "count" or numerator is not None):
                raise RegistryError(f"{path.name} line {line}: {name}: only a count KPI can have a lead_condition")
            kpis[name] = Kpi(
                name=name,
                label_ru=row["label_ru"].strip(),
                label_en=row["label_en"].strip(),
                unit=row["unit"],  # type: ignore[arg-type]
                direction=row["direction"],  # type: ignore[arg-type]
                is_additive=_flag(row, "is_additive", line),
                is_never_null=_flag(row, "is_never_null", line),
                is_per_team=_flag(row, "is_per_team", line),
                min_value=_number(row, "min_value"),
                max_value=_number(row, "max_value"),
                numerator=numerator,
                denominator=denominator,
                alert_base=_text(row, "alert_base"),
                lead_condition=lead_condition,
                is_compared=_flag(row, "is_compared", line),
                description=row["description"].strip(),
            )
    return kpis


@cache
def registry() -> dict[str, Kpi]:
    """The project's KPI registry, KPI name -> Kpi, in the order the marts carry the columns."""
    return parse(REGISTRY_CSV)
