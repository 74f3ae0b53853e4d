"""Every chart of the report, on Altair, in the reader's language and number formats.

Streamlit's `st.bar_chart`/`st.line_chart` are Altair underneath but leave axis formats in American
English and legend entries as column names. Here each chart gets:

- axis and legend titles from `columns.label` / `labels.t` (so KPI labels come from the registry);
- legend entries that are names (a KPI label, a manager's name), never a column name, and legends
  without a symbol or label limit (nothing is cut to "…");
- axes formatted by d3-format/d3-time-format patterns under a Vega `locale` config built from Babel's
  CLDR data for the language (`locale_config`): Russian gets a decimal comma, a no-break space between
  thousands, `50 %` and stand-alone month names («октябрь 2026»), as `formatting` gives the tables.

The chart only draws what the mart holds: no figure is computed here beyond reshaping for drawing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from functools import cache

import altair as alt
import pandas as pd
import streamlit as st
from babel.dates import get_date_format
from babel.numbers import format_percent

from streamlit_app import columns, formatting
from streamlit_app.labels import Lang, t

# Fixed colours where a colour means something (the funnel's entered / advanced / lost).
BLUE, GREEN, RED, GREY = "#1f77b4", "#2ca02c", "#d62728", "#7f7f7f"
MEASURE, VALUE = "measure", "value"  # the long frame's columns (never shown: titles come from labels)

# d3-format patterns per kind of value; money carries its currency in the axis title.
_NUMBER_FORMATS = {"count": ",d", "money": ",.0f", "rate": ".0%", "score": ",.1~f", "number": ",.1~f",
                   "minutes": ",.1~f", "hours": ",.1~f", "days": ",.1~f"}
_TOOLTIP_FORMATS = {**_NUMBER_FORMATS, "rate": ".1%", "count": ",d"}
_TIME_FORMATS = {"month": "%b %Y", "date": "%e %b", "week": "%e %b"}
# Russian days by number: one set of month names serves both "октябрь 2026" and a day, and a day needs the
# genitive («1 марта»), so days read 01.03
_DAY_FORMATS = {"ru": "%d.%m", "en": "%b %e"}
_TOOLTIP_TIME_FORMATS = {"month": "%B %Y", "date": "%x", "week": "%x"}


@cache
def locale_config(lang: str) -> dict[str, dict[str, object]]:
    """A Vega `locale` config (d3 number and time locale definitions) from Babel's CLDR data for `lang`."""
    loc = formatting.locale(lang)
    symbols = loc.number_symbols.get("latn", loc.number_symbols) if hasattr(loc, "number_symbols") else {}
    decimal, group = str(symbols.get("decimal", ".")), str(symbols.get("group", ","))
    percent = re.sub(r"[\d\s\u00a0\u202f]*50[\s\u00a0\u202f]*", lambda m: "", format_percent(0.5, locale=loc))
    spaced = "\u00a0" if re.search(r"50[\s\u00a0\u202f]", format_percent(0.5, locale=loc)) else ""
    # Babel counts weekdays from Monday (0); d3 from Sunday
    order = [6, 0, 1, 2, 3, 4, 5]
    days, short_days = loc.days["format"]["wide"], loc.days["format"]["abbreviated"]
    months, short_months = loc.months["stand-alone"]["wide"], loc.months["stand-alone"]["abbreviated"]
    pattern = get_date_format("short", locale=loc).pattern
    short_date = "%d.%m.%Y" if "." in pattern else "%m/%d/%Y"
    return {
        "number": {"decimal": decimal, "thousands": group, "grouping": [3], "currency": ["", ""],
                   "percent": spaced + (percent or "%"), "minus": "-"},
        "time": {"dateTime": "%x, %X", "date": short_date, "time": "%H:%M:%S", "periods": ["AM", "PM"],
                 "days": [days[i] for i in order], "shortDays": [short_days[i] for i in order],
                 "months": [months[i] for i in range(1, 13)], "shortMonths": [short_months[i] for i in range(1, 13)]},
    }


def _kind(column: str, kind: str | None = None) -> str:
    return kind or columns.kind(column) or "number"


def title(column: str, lang: Lang, currency: str | None = None, kind: str | None = None) -> str:
    """An axis title: the column's label, with the currency sign for money."""
    text = columns.label(column, lang)
    if _kind(column, kind) == "money" and currency:
        return f"{text}, {formatting.currency_symbol(currency, lang)}"
    return text


def _quantitative(field: str, kind: str, axis_title: str, *, zero: bool = True, domain: list[float] | None = None,
                  channel: type = alt.Y) -> alt.X | alt.Y:
    axis = alt.Axis(format=_NUMBER_FORMATS.get(kind, ",.1~f"), title=axis_title,
                    tickMinStep=1 if kind == "count" else alt.Undefined)
    scale = alt.Scale(zero=zero, domain=domain) if domain else alt.Scale(zero=zero)
    return channel(f"{field}:Q", axis=axis, scale=scale)


def _time(field: str, kind: str, axis_title: str, lang: Lang, channel: type = alt.X, *, bands: bool = False
          ) -> alt.X | alt.Y:
    """A date axis; `bands` (bars): one labelled band per month or day, not a continuous time scale whose
    ticks fall between the bars."""
    unit = "yearmonth" if kind == "month" else "yearmonthdate"
    pattern = _TIME_FORMATS["month"] if kind == "month" else _DAY_FORMATS.get(lang, "%e %b")
    return channel(f"{unit}({field}):{'O' if bands else 'T'}", title=axis_title,
                   axis=alt.Axis(format=pattern, formatType="time", labelOverlap=True, labelAngle=0))


def _nominal(field: str, axis_title: str, order: Sequence[object], channel: type = alt.X) -> alt.X | alt.Y:
    angle = alt.Undefined if channel is alt.Y else -30
    return channel(f"{field}:N", title=axis_title, sort=list(order),
                   axis=alt.Axis(labelLimit=320, labelAngle=angle, labelOverlap=False))


def _dates(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Dates as timestamps at noon, so the browser's timezone never moves a day or month across a boundary."""
    stamps = pd.to_datetime(frame[column].map(lambda v: None if formatting.is_missing(v) else pd.Timestamp(v)))
    return frame.assign(**{column: stamps + pd.Timedelta(hours=12)})


def _is_time(frame: pd.DataFrame, column: str, kind: str | None) -> bool:
    if kind in ("month", "date", "week"):
        return True
    sample = frame[column].dropna()
    return not sample.empty and isinstance(sample.iloc[0], date | pd.Timestamp)


def finish(chart: alt.TopLevelMixin, lang: Lang) -> alt.TopLevelMixin:
    """The report's config: the language's number and time locale, legends and labels never truncated."""
    return chart.configure(
        locale=locale_config(lang),
        legend=alt.LegendConfig(labelLimit=0, symbolLimit=0, titleLimit=0, orient="bottom", columns=4),
        axis=alt.AxisConfig(titleLimit=0),
    )


def draw(chart: alt.TopLevelMixin, lang: Lang, key: str | None = None) -> None:
    st.altair_chart(finish(chart, lang), width="stretch", key=key)


def series(frame: pd.DataFrame, x: str, ys: Sequence[str], lang: Lang, *, currency: str | None = None,
           mark: str = "bar", horizontal: bool = False, x_kind: str | None = None, y_kind: str | None = None,
           colors: Sequence[str] | None = None, x_title: str | None = None, y_title: str | None = None,
           height: int | None = None, point: bool = True, legend_columns: int | None = None) -> alt.Chart:
    """Bars or lines of one or several mart columns `ys` over `x` (a date, month or category column).

    Several `ys` share one axis (of `ys[0]`'s kind) and a legend whose entries are their labels.
    """
    ys = [y for y in ys if y in frame.columns]
    x_kind = x_kind or columns.kind(x)
    y_kind = _kind(ys[0], y_kind)
    names = {y: columns.label(y, lang) for y in ys}
    data = frame[[x, *ys]].copy()
    time_axis = _is_time(data, x, x_kind)
    if time_axis:
        x_kind = x_kind if x_kind in ("month", "date", "week") else "date"
        data = _dates(data, x)
    order = list(dict.fromkeys(data[x]))
    data[x] = data[x] if time_axis else data[x].map(lambda v: formatting.MISSING if formatting.is_missing(v)
                                                    else str(v))
    order = list(dict.fromkeys(data[x])) if not time_axis else order
    long = data.melt(id_vars=[x], value_vars=ys, var_name=MEASURE, value_name=VALUE)
    long[MEASURE] = long[MEASURE].map(names)
    x_text = x_title or (t(lang, "month") if x_kind == "month" else columns.label(x, lang))
    y_text = y_title or (title(ys[0], lang, currency, y_kind) if len(ys) == 1
                         else (f"{formatting.currency_symbol(currency, lang)}" if y_kind == "money" and currency
                               else t(lang, "chart_measure")))
    category_channel = alt.Y if horizontal else alt.X
    value_channel = alt.X if horizontal else alt.Y
    category = (_time(x, x_kind, x_text, lang, category_channel, bands=mark == "bar") if time_axis
                else _nominal(x, x_text, order, category_channel))
    value = _quantitative(VALUE, y_kind, y_text, channel=value_channel)
    time_format = _TOOLTIP_TIME_FORMATS.get(x_kind or "", "")
    tooltip = [alt.Tooltip(f"{x}:T", title=x_text, format=time_format) if time_axis
               else alt.Tooltip(f"{x}:N", title=x_text),
               alt.Tooltip(f"{MEASURE}:N", title=t(lang, "chart_measure")),
               alt.Tooltip(f"{VALUE}:Q", title=y_text, format=_TOOLTIP_FORMATS.get(y_kind, ",.1~f"))]
    palette = list(colors) if colors else None
    encodings: dict[str, object] = {"tooltip": tooltip}
    if len(ys) > 1 or palette:
        scale = alt.Scale(domain=[names[y] for y in ys], range=palette[:len(ys)]) if palette else alt.Scale()
        legend = alt.Legend(title=None, columns=legend_columns or len(ys)) if len(ys) > 1 else None
        encodings["color"] = alt.Color(f"{MEASURE}:N", scale=scale, legend=legend, sort=[names[y] for y in ys])
    if mark == "line":
        base = alt.Chart(long).mark_line(point=point)
    else:
        base = alt.Chart(long).mark_bar()
        if len(ys) > 1:  # side by side, not stacked
            offset = alt.YOffset if horizontal else alt.XOffset
            encodings["yOffset" if horizontal else "xOffset"] = offset(f"{MEASURE}:N", sort=[names[y] for y in ys])
    chart = base.encode(category, value, **encodings)
    if horizontal:
        # Streamlit fits the whole chart (axes and legend included) into the height: room for each bar
        per_row = 16 * max(len(ys), 1) + 10
        legend_rows = 0 if len(ys) == 1 else -(-len(ys) // (legend_columns or len(ys)))
        chart = chart.properties(height=height or max(150, per_row * max(len(order), 1) + 60 + 22 * legend_rows))
    elif height:
        chart = chart.properties(height=height)
    return chart


LABEL_ROW = "label_row"
_LABEL_OFFSETS = (0, -13, 13, -26, 26, -39, 39)


def _label_rows(data: pd.DataFrame, x: str, y: str, near: float = 0.12) -> pd.Series:
    """For each point, which of `_LABEL_OFFSETS` its name is drawn at: points whose names would overlap (the
    same height, close left to right) take the next free line."""
    x_span = (float(data[x].max()) - float(data[x].min())) or 1.0
    y_span = (float(data[y].max()) - float(data[y].min())) or 1.0
    rows = pd.Series(0, index=data.index)
    placed: list[tuple[float, float, int]] = []
    for index, point in data.sort_values([y, x]).iterrows():
        px, py = float(point[x]), float(point[y])
        taken = {row for qx, qy, row in placed if abs(qx - px) < near * x_span and abs(qy - py) < 0.08 * y_span}
        row = next((r for r in range(len(_LABEL_OFFSETS)) if r not in taken), 0)
        rows[index] = row
        placed.append((px, py, row))
    return rows


def labelled_scatter(frame: pd.DataFrame, x: str, y: str, name: str, lang: Lang, *, margin: float = 0.15
                     ) -> alt.LayerChart:
    """A point per row, each labelled with its `name` (and a legend of every name), with room around the points
    so no label is clipped at an edge."""
    data = frame[[x, y, name]].dropna(subset=[x, y]).copy()
    data[name] = data[name].map(lambda v: formatting.MISSING if formatting.is_missing(v) else str(v))

    def domain(column: str) -> list[float]:
        low, high = float(data[column].min()), float(data[column].max())
        span = (high - min(low, 0.0)) or 1.0
        return [min(low, 0.0), high + span * margin]

    x_kind, y_kind = _kind(x), _kind(y)
    names = sorted(data[name].unique(), key=str)
    data[LABEL_ROW] = _label_rows(data, x, y)
    base = alt.Chart(data).encode(
        _quantitative(x, x_kind, title(x, lang), domain=domain(x) if not data.empty else None, channel=alt.X),
        _quantitative(y, y_kind, title(y, lang), domain=domain(y) if not data.empty else None, channel=alt.Y),
        tooltip=[alt.Tooltip(f"{name}:N", title=columns.label(name, lang)),
                 alt.Tooltip(f"{x}:Q", title=title(x, lang), format=_TOOLTIP_FORMATS.get(x_kind, ",.1~f")),
                 alt.Tooltip(f"{y}:Q", title=title(y, lang), format=_TOOLTIP_FORMATS.get(y_kind, ",.1~f"))],
    )
    colour = alt.Color(f"{name}:N", sort=names, title=columns.label(name, lang),
                       scale=alt.Scale(scheme="tableau20"))
    points = base.mark_circle(size=90, opacity=0.9).encode(color=colour)
    # names of points close together go on alternate lines above and below, so none covers another
    texts = [base.transform_filter(alt.datum[LABEL_ROW] == row)
             .mark_text(align="left", baseline="middle", dx=8, dy=offset, fontSize=12).encode(text=f"{name}:N")
             for row, offset in enumerate(_LABEL_OFFSETS)]
    return alt.layer(points, *texts).properties(height=420, padding={"left": 10, "right": 40, "top": 10, "bottom": 10})


def heatmap(frame: pd.DataFrame, x: str, y: str, value: str, lang: Lang, *, x_order: Sequence[object],
            y_order: Sequence[object], x_title: str, y_title: str, domain: Sequence[float], palette: Sequence[str],
            tooltip: Sequence[alt.Tooltip]) -> alt.LayerChart:
    """Cells coloured by `value` (a rate), each with its value written in, in the reader's percent format."""
    base = alt.Chart(frame).encode(
        x=alt.X(f"{x}:N", title=x_title, sort=list(x_order),
                axis=alt.Axis(labelLimit=0, labelAngle=-30, labelOverlap=False, labelAlign="right")),
        y=alt.Y(f"{y}:N", title=y_title, sort=list(y_order), axis=alt.Axis(labelLimit=0)),
    )
    kind = _kind(value)
    heat = base.mark_rect().encode(
        color=alt.Color(f"{value}:Q", title=columns.label(value, lang),
                        scale=alt.Scale(domain=list(domain), range=list(palette)),
                        legend=alt.Legend(format=_NUMBER_FORMATS.get(kind, ",.1~f"), orient="right")),
        tooltip=list(tooltip),
    )
    text = base.mark_text(fontSize=11).encode(text=alt.Text(f"{value}:Q", format=_NUMBER_FORMATS.get(kind)))
    return (heat + text).properties(height=alt.Step(28))


def tooltip(column: str, lang: Lang, kind: str | None = None, field_type: str = "Q") -> alt.Tooltip:
    """A tooltip line with the column's label and, for a number, its locale format."""
    if field_type != "Q":
        return alt.Tooltip(f"{column}:{field_type}", title=columns.label(column, lang))
    return alt.Tooltip(f"{column}:Q", title=columns.label(column, lang),
                       format=_TOOLTIP_FORMATS.get(_kind(column, kind), ",.1~f"))
