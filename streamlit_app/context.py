"""The shared sidebar and the filter context every page draws from, kept in the URL so a view can be shared.

`app.py` calls `sidebar()` once per run, before the chosen page runs; the page reads the result with
`current()`. Filters live in widget state (which st.navigation keeps across pages, since the widgets
are drawn by the entrypoint) and are mirrored into the query string by `share_state()`: a page switch
clears the query string, and the next run writes the filters back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import streamlit as st

from streamlit_app import data, formatting
from streamlit_app.labels import Lang, t

URL_KEYS = ("lang", "period", "from", "month", "pipeline", "team", "manager")
# The period a page's KPIs cover, ending with the chosen month: None is the month itself (the default, so it
# stays out of the URL); quarter and year_to_date are the periods of mart_manager_kpi_periods; range runs from
# the month chosen as `from` (mart_manager_kpi_ranges, any range of whole months).
PERIODS = (None, "quarter", "year_to_date", "range")
_CONTEXT = "report_context"  # the session-state slot the entrypoint fills for the page


@dataclass(frozen=True)
class Context:
    access: data.Access  # who reads: every data call is filtered by it
    account_id: int
    currency: str
    timezone: str
    lang: Lang
    month: date
    pipeline: tuple[int, str] | None
    team: tuple[int, str] | None
    manager: tuple[int, str] | None
    period: str | None = None  # PERIODS: None (the month), quarter (the month's quarter), year_to_date, range
    range_from: date | None = None  # a range's first month (period "range" only)

    @property
    def period_start(self) -> date:
        return period_bounds(self.period, self.month, self.range_from)[0]

    @property
    def period_end(self) -> date:
        return period_bounds(self.period, self.month, self.range_from)[1]

    @property
    def previous_period(self) -> tuple[date, date]:
        return previous_period(self.period, self.month, self.range_from)

    @property
    def period_text(self) -> str:
        """«октябрь 2026», «4-й квартал 2026» or «январь — октябрь 2026 г.»."""
        if self.period == "quarter":
            return formatting.quarter(self.month, self.lang)
        if self.period in ("year_to_date", "range") and self.period_start < self.month:
            return formatting.month_span(self.period_start, self.month, self.lang)
        return self.month_text

    @property
    def team_id(self) -> int | None:
        return None if self.team is None else self.team[0]

    @property
    def manager_id(self) -> int | None:
        return None if self.manager is None else self.manager[0]

    @property
    def pipeline_id(self) -> int | None:
        return None if self.pipeline is None else self.pipeline[0]

    @property
    def month_text(self) -> str:
        return formatting.month(self.month, self.lang)

    def scope(self) -> str:
        if self.manager is not None:
            return t(self.lang, "scope_manager", manager=self.manager[1])
        if self.team is not None:
            return t(self.lang, "scope_team", team=self.team[1])
        return t(self.lang, "scope_department")


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_before(month: date, count: int) -> date:
    for _ in range(count):
        month = previous_month(month)
    return month


def month_count(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def period_bounds(period: str | None, month: date, range_from: date | None = None) -> tuple[date, date]:
    """First and last day of the period ending with (quarter: holding) `month`; a range starts with `range_from`."""
    if period == "range":
        return (range_from or month).replace(day=1), next_month(month) - timedelta(days=1)
    if period == "quarter":
        start = month.replace(month=3 * ((month.month - 1) // 3) + 1, day=1)
        return start, next_month(next_month(next_month(start))) - timedelta(days=1)
    if period == "year_to_date":
        return month.replace(month=1, day=1), next_month(month) - timedelta(days=1)
    return month.replace(day=1), next_month(month) - timedelta(days=1)


def previous_period_end(period: str | None, month: date) -> date:
    """The last day of the period before: the quarter before, or the same months of the year before."""
    if period == "year_to_date":
        return period_bounds(period, month.replace(year=month.year - 1))[1]
    return period_bounds(period, month)[0] - timedelta(days=1)


def previous_period(period: str | None, month: date, range_from: date | None = None) -> tuple[date, date]:
    """First and last day of the period before: for a range, as many months just before it."""
    if period == "range":
        first = (range_from or month).replace(day=1)
        return months_before(first, month_count(first, month)), first - timedelta(days=1)
    end = previous_period_end(period, month)
    return period_bounds(period, end.replace(day=1))[0], end


def current() -> Context:
    """The context the entrypoint built on this run (pages run only after it has)."""
    return st.session_state[_CONTEXT]


# ---------------------------------------------------------------- URL state


def _parse(key: str, text: str) -> Any:
    if key in ("month", "from"):
        return date.fromisoformat(text)
    if key in ("pipeline", "team", "manager"):
        return None if text in ("", "all") else int(text)
    if key == "period":
        return None if text in ("", "month") else text
    return text


def _url_text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def prepare(key: str, options: Sequence[Any]) -> None:
    """Seed a widget from the URL on first sight, and drop a remembered value its options no longer hold."""
    if key not in st.session_state and key in st.query_params:
        try:
            value = _parse(key, st.query_params[key])
        except ValueError:
            return
        if value in options:
            st.session_state[key] = value
    elif key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]


def share_state() -> None:
    """Mirror the current filters into the URL (only the ones drawn on this run)."""
    wanted = {k: _url_text(st.session_state[k]) for k in URL_KEYS if st.session_state.get(k) is not None}
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def _choose(label: str, key: str, options: Sequence[Any], format_func: Callable[[Any], str]) -> Any:
    prepare(key, options)
    return st.sidebar.selectbox(label, list(options), format_func=format_func, key=key)


# ---------------------------------------------------------------- the sidebar


def sidebar(lang: Lang, access: data.Access) -> Context | None:
    """Draw the filters and remember the context for the page; None (with a note) when there is no data.

    Raises data.WarehouseUnavailable when the serving file cannot be read.
    """
    st.session_state.pop(_CONTEXT, None)
    data.check_marts()
    accounts = data.accounts(access)
    if accounts.empty:
        st.info(t(lang, "no_data"))
        return None
    # Normally one account per warehouse; offer a choice only when there are several.
    account_ids = [int(a) for a in accounts["account_id"]]
    account_id = account_ids[0]
    if len(account_ids) > 1:
        account_id = st.sidebar.selectbox(t(lang, "account"), account_ids, key="account")
    currency = str(accounts.loc[accounts["account_id"] == account_id, "currency"].iloc[0])

    months = data.months(access, account_id)
    if not months:
        st.info(t(lang, "no_data"))
        return None
    period = _choose(t(lang, "period"), "period", PERIODS, lambda p: t(lang, f"period_{p or 'month'}"))
    month_label = "month" if period is None else "range_to" if period == "range" else "period_month_label"
    first_slot = st.sidebar.container()  # a range's first month reads above its last, though chosen after it
    month = _choose(t(lang, month_label), "month", months,
                    lambda m: formatting.month(m, lang))
    range_from = None
    if period == "range":  # from which month: a quarter's worth back unless the URL or the reader chose
        earlier = [m for m in months if m <= month]
        prepare("from", earlier)
        if "from" not in st.session_state:
            st.session_state["from"] = min(earlier, key=lambda m: abs(month_count(m, month) - 3))
        range_from = first_slot.selectbox(t(lang, "range_from"), earlier,
                                          format_func=lambda m: formatting.month(m, lang), key="from")
    else:
        st.session_state.pop("from", None)

    pipes = data.pipelines(access, account_id)
    names = dict(zip(pipes["pipeline_id"].astype(int), pipes["pipeline_name"].astype(str), strict=True))
    pipeline_id = _choose(t(lang, "pipeline"), "pipeline", [None, *names],
                          lambda p: t(lang, "all") if p is None else names.get(p, str(p)))

    groups = data.teams(access, account_id)
    teams = dict(zip(groups["group_id"].astype(int), groups["group_name"].astype(str), strict=True))
    team_id = _choose(t(lang, "team"), "team", [None, *teams],
                      lambda g: t(lang, "all") if g is None else teams.get(g, str(g)))

    people = data.manager_options(access, account_id, team_id)
    staff = dict(zip(people["manager_id"].astype(int), people["manager_name"].astype(str), strict=True))
    manager_id = _choose(t(lang, "manager_filter"), "manager", [None, *staff],
                         lambda m: t(lang, "all") if m is None else staff.get(m, str(m)))

    ctx = Context(
        access=access,
        account_id=account_id,
        currency=currency,
        timezone=data.timezone(access, account_id),
        lang=lang,
        month=month,
        pipeline=None if pipeline_id is None else (pipeline_id, names[pipeline_id]),
        team=None if team_id is None else (team_id, teams[team_id]),
        manager=None if manager_id is None else (manager_id, staff[manager_id]),
        period=period,
        range_from=range_from,
    )
    st.session_state[_CONTEXT] = ctx
    return ctx
