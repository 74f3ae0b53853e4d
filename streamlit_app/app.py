"""amoCRM sales report: selects, filters and draws what the marts hold.

Run with `streamlit run streamlit_app/app.py`. The sidebar's page and filters live in the URL
(`?page=funnel&month=2026-10-01&pipeline=…&team=…&manager=…&lang=en`), so a view can be shared.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st

# `streamlit run` puts only this folder on sys.path; add the project root so it also runs uninstalled.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from streamlit_app import data, views  # noqa: E402
from streamlit_app.labels import LANGUAGES, PAGES, Lang, month_label, t  # noqa: E402

URL_KEYS = ("lang", "page", "month", "pipeline", "team", "manager")
PAGE_VIEWS: dict[str, Callable[[views.Context], None]] = {
    "overview": views.overview,
    "funnel": views.funnel,
    "managers": views.managers,
    "manager": views.manager,
    "scorecard": views.scorecard,
    "alerts": views.alerts,
    "quality": views.quality,
}


def _parse(key: str, text: str) -> Any:
    if key == "month":
        return date.fromisoformat(text)
    if key in ("pipeline", "team", "manager"):
        return None if text in ("", "all") else int(text)
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
    """Mirror the current widgets into the URL (only the ones drawn on this run)."""
    wanted = {k: _url_text(st.session_state[k]) for k in URL_KEYS
              if st.session_state.get(k) is not None}
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def choose(label: str, key: str, options: Sequence[Any], format_func: Callable[[Any], str]) -> Any:
    prepare(key, options)
    return st.sidebar.selectbox(label, list(options), format_func=format_func, key=key)


def report(lang: Lang, page: str) -> None:
    data.check_marts()
    accounts = data.accounts()
    if accounts.empty:
        st.info(t(lang, "no_data"))
        return
    # Normally one account per warehouse; offer a choice only when there are several.
    account_ids = [int(a) for a in accounts["account_id"]]
    account_id = account_ids[0]
    if len(account_ids) > 1:
        account_id = st.sidebar.selectbox(t(lang, "account"), account_ids, key="account")
    currency = str(accounts.loc[accounts["account_id"] == account_id, "currency"].iloc[0])

    months = data.months(account_id)
    if not months:
        st.info(t(lang, "no_data"))
        return
    month = choose(t(lang, "month"), "month", months, lambda m: month_label(lang, m))

    pipes = data.pipelines(account_id)
    names = dict(zip(pipes["pipeline_id"].astype(int), pipes["pipeline_name"].astype(str), strict=True))
    pipeline_id = choose(t(lang, "pipeline"), "pipeline", [None, *names],
                         lambda p: t(lang, "all") if p is None else names.get(p, str(p)))

    groups = data.teams(account_id)
    teams = dict(zip(groups["group_id"].astype(int), groups["group_name"].astype(str), strict=True))
    team_id = choose(t(lang, "team"), "team", [None, *teams],
                     lambda g: t(lang, "all") if g is None else teams.get(g, str(g)))

    people = data.manager_options(account_id, team_id)
    staff = dict(zip(people["manager_id"].astype(int), people["manager_name"].astype(str), strict=True))
    manager_id = choose(t(lang, "manager_filter"), "manager", [None, *staff],
                        lambda m: t(lang, "all") if m is None else staff.get(m, str(m)))

    ctx = views.Context(
        account_id=account_id,
        currency=currency,
        timezone=data.timezone(account_id),
        lang=lang,
        month=month,
        pipeline=None if pipeline_id is None else (pipeline_id, names[pipeline_id]),
        team=None if team_id is None else (team_id, teams[team_id]),
        manager=None if manager_id is None else (manager_id, staff[manager_id]),
    )
    PAGE_VIEWS[page](ctx)


def main() -> None:
    st.set_page_config(page_title="amokpi", page_icon="📈", layout="wide")
    # The language switch is labelled in both languages, since it is what you use to read the rest.
    prepare("lang", list(LANGUAGES))
    lang: Lang = st.sidebar.radio(t("ru", "language"), list(LANGUAGES),
                                  format_func=LANGUAGES.get, key="lang", horizontal=True)
    prepare("page", PAGES)
    page = st.sidebar.radio(t(lang, "page"), PAGES, format_func=lambda p: t(lang, p), key="page")
    st.title(f"{t(lang, 'title')} · {t(lang, page)}")
    try:
        report(lang, page)
    except data.WarehouseUnavailable as problem:
        # A missing or half-built warehouse is an expected state, not a crash: explain what to do.
        st.warning(t(lang, problem.reason, path=problem.path, **problem.detail))
    share_state()


main()
