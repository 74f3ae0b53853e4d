"""Every number, amount, percentage, month and time the report shows, in the reader's locale, by Babel.

Russian: `8 052 000 ₽`, `14,0 %`, «октябрь 2026»; English: `RUB 8,052,000`, `14.0%`, "October 2026".
A missing value is a dash (`MISSING`), never "None" or "nan". The marts hold rates as fractions 0..1;
only their display is scaled here.

Tables: Streamlit's `st.column_config` formats numbers in the *browser's* locale (or by printf, which
knows no decimal comma), not in the language the reader picked. So `table_styler` below hands
`st.dataframe` a pandas Styler whose display text comes from this module, while the frame under it
keeps the mart's raw values and column names: a click on a header still sorts by the number, and the
CSV download is the raw frame.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from typing import Literal

import pandas as pd
from babel import Locale
from babel.dates import format_date, format_interval, format_time
from babel.numbers import NumberPattern, format_decimal, get_currency_symbol
from pandas.io.formats.style import Styler

from amokpi.kpis import Unit

MISSING = "—"
# Streamlit draws a metric's delta red or green by its first character, so signs are plain ASCII.
PLUS, MINUS = "+", "-"

# A KPI unit of the registry, or one of the kinds of the report's other columns.
Kind = Unit | Literal["number", "id", "flag", "month", "date", "datetime", "text"]

_DECIMALS: dict[str, int] = {"count": 0, "money": 0, "rate": 1, "minutes": 1, "hours": 1, "days": 1, "score": 1,
                             "number": 1}


@cache
def locale(lang: str) -> Locale:
    return Locale.parse(lang)


def is_missing(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):  # a list or other non-scalar is a value, not a gap
        return False


@cache
def _pattern(lang: str, kind: str, decimals: int) -> NumberPattern:
    """The locale's own currency or percent pattern (where the sign goes, spaces) with our decimals."""
    loc = locale(lang)
    base = loc.currency_formats["standard"] if kind == "money" else loc.percent_formats[None]
    pattern = copy.copy(base)
    pattern.frac_prec = (decimals, decimals)
    return pattern


# CLDR's currency spacing, which Babel does not apply: a letter code such as RUB is set off from the digits.
_CODE_NEXT_TO_DIGIT = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")


def _signed(text: str, value: float, signed: bool) -> str:
    if value < 0:
        return MINUS + text
    return PLUS + text if signed and value > 0 else text


def number(value: object, lang: str, decimals: int = 0, signed: bool = False) -> str:
    if is_missing(value):
        return MISSING
    amount = float(value)  # type: ignore[arg-type]
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return _signed(format_decimal(abs(amount), format=pattern, locale=locale(lang)), amount, signed)


def money(value: object, currency: str | None, lang: str, signed: bool = False) -> str:
    """Whole units of the account currency; without a currency, a plain number."""
    if is_missing(value):
        return MISSING
    if not currency:
        return number(value, lang, 0, signed)
    amount = float(value)  # type: ignore[arg-type]
    text = _pattern(lang, "money", 0).apply(abs(amount), locale(lang), currency=currency, currency_digits=False)
    return _signed(_CODE_NEXT_TO_DIGIT.sub("\u00a0", text), amount, signed)


def percent(value: object, lang: str, decimals: int = 1, signed: bool = False) -> str:
    """A fraction (0.14) as a percentage (14,0 % / 14.0%)."""
    if is_missing(value):
        return MISSING
    amount = float(value)  # type: ignore[arg-type]
    return _signed(_pattern(lang, "percent", decimals).apply(abs(amount), locale(lang)), amount, signed)


def points(change: object, lang: str, unit_word: str) -> str:
    """A change of a rate in percentage points: +1,2 п.п. / +1.2 pp."""
    if is_missing(change):
        return MISSING
    return f"{number(float(change) * 100, lang, 1, signed=True)}\u00a0{unit_word}"  # type: ignore[arg-type]


def currency_symbol(currency: str | None, lang: str) -> str:
    return get_currency_symbol(currency, locale(lang)) if currency else ""


def month(value: object, lang: str) -> str:
    """«октябрь 2026» / "October 2026" (the stand-alone month name, as a heading or filter option)."""
    if is_missing(value):
        return MISSING
    return format_date(pd.Timestamp(value).date(), "LLLL yyyy", locale=locale(lang))  # type: ignore[arg-type]


def quarter(value: object, lang: str) -> str:
    """The calendar quarter of a day: «4-й квартал 2026» / "4th quarter 2026"."""
    if is_missing(value):
        return MISSING
    return format_date(pd.Timestamp(value).date(), "QQQQ y", locale=locale(lang))  # type: ignore[arg-type]


def month_span(start: object, end: object, lang: str) -> str:
    """Months from `start` to `end`: «январь — октябрь 2026 г.» / "January – October 2026"."""
    if is_missing(start) or is_missing(end):
        return MISSING
    return format_interval(pd.Timestamp(start).date(), pd.Timestamp(end).date(),  # type: ignore[arg-type]
                           "yMMMM", locale=locale(lang))


def day(value: object, lang: str) -> str:
    if is_missing(value):
        return MISSING
    return format_date(pd.Timestamp(value).date(), "medium", locale=locale(lang))  # type: ignore[arg-type]


def moment(value: object, lang: str) -> str:
    """A wall-clock time (already in the account timezone): 12 окт. 2026 г., 14:05 / Oct 12, 2026, 2:05 PM."""
    if is_missing(value):
        return MISSING
    stamp: datetime = pd.Timestamp(value).to_pydatetime()  # type: ignore[arg-type]
    loc = locale(lang)
    return (loc.datetime_formats["medium"]
            .replace("{1}", format_date(stamp.date(), "medium", locale=loc))
            .replace("{0}", format_time(stamp.time(), "short", locale=loc)))


def value(value: object, kind: str, lang: str, currency: str | None = None) -> str:
    """One value by its `Kind`."""
    if is_missing(value):
        return MISSING
    if kind == "money":
        return money(value, currency, lang)
    if kind == "rate":
        return percent(value, lang)
    if kind == "month":
        return month(value, lang)
    if kind == "date":
        return day(value, lang)
    if kind == "datetime":
        return moment(value, lang)
    if kind == "id":
        return str(int(float(value)))  # type: ignore[arg-type]  # a lead number: no grouping, no decimals
    if kind == "flag":
        return "✓" if bool(value) else "✗"
    if kind == "text" or isinstance(value, str | bool):
        return str(value)
    if kind == "number" and float(value) == math.floor(float(value)):  # type: ignore[arg-type]
        return number(value, lang, 0)  # an integer of unknown meaning (an id, a row count) has no decimals
    return number(value, lang, _DECIMALS.get(kind, 1))


def change(delta: object, kind: str, lang: str, currency: str | None, points_word: str) -> str:
    """A signed difference of two values of `kind`; rates move in percentage points."""
    if kind == "money":
        return money(delta, currency, lang, signed=True)
    if kind == "rate":
        return points(delta, lang, points_word)
    return number(delta, lang, _DECIMALS.get(kind, 1), signed=True)


def kind_of(series: pd.Series) -> str:
    """The kind of a column no map names, from its values' type (never from its name)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    sample = series.dropna()
    if not sample.empty and isinstance(sample.iloc[0], date) and not isinstance(sample.iloc[0], datetime):
        return "date"
    return "text"


# How a table column is shown: a kind, a kind per row (a Series on the frame's index), or a function to text.
ColumnKind = str | pd.Series | Callable[[object], str]


def table_styler(frame: pd.DataFrame, kinds: Mapping[str, ColumnKind], lang: str, currency: str | None,
                 gaps: Mapping[str, str] | None = None) -> Styler:
    """`frame` with display text from this module: raw values stay underneath (sorting, CSV).

    A column `kinds` does not name is judged by its dtype. A kind per row serves the scorecard, whose
    target and actual are each in their own row's KPI unit. An empty cell shows its column's reason from
    `gaps` ("no base", "no plan" …), else a dash.
    """
    styler = frame.style
    for column in frame.columns:
        kind = kinds.get(column)
        if kind is None:
            kind = kind_of(frame[column])
        gap = (gaps or {}).get(column, MISSING)
        if isinstance(kind, pd.Series):
            for each, rows in kind.groupby(kind, sort=False).groups.items():
                styler = styler.format(lambda v, k=str(each), g=gap: g if is_missing(v) else
                                       value(v, k, lang, currency), subset=(list(rows), [column]))
        elif callable(kind):
            styler = styler.format(lambda v, f=kind, g=gap: g if is_missing(v) else f(v), subset=[column])
        else:
            styler = styler.format(lambda v, k=kind, g=gap: g if is_missing(v) else value(v, k, lang, currency),
                                   subset=[column])
    return styler
