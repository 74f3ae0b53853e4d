"""amoCRM sales report: selects, filters and draws what the marts hold.

Run with `streamlit run streamlit_app/app.py`. Each page is a file under `report_pages/` with its own URL path;
the filters live in the query string (`/funnel?month=2026-10-01&pipeline=…&team=…&manager=…&lang=en`),
so a view can be shared. Old `?page=funnel&…` links are sent on to `/funnel?…`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts only this folder on sys.path; add the project root so it also runs uninstalled.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from streamlit_app import context, data, navigation, signin  # noqa: E402
from streamlit_app.labels import LANGUAGES, Lang, t  # noqa: E402


def main() -> None:
    st.set_page_config(page_title="amokpi", page_icon="📈", layout="wide")
    # The language switch is labelled in both languages, since it is what you use to read the rest.
    context.prepare("lang", list(LANGUAGES))
    lang: Lang = st.sidebar.radio(t("ru", "language"), list(LANGUAGES),
                                  format_func=LANGUAGES.get, key="lang", horizontal=True)
    # who reads decides what the data layer returns; nobody signed in sees the sign-in button and no page
    email = signin.reader(lang)
    pages = navigation.pages(lang)
    page = st.navigation(list(pages.values()))
    navigation.legacy_page(pages)
    st.title(f"{t(lang, 'title')} · {page.title}")
    try:
        access = data.access_for(email)
        if access.sees_nothing:
            st.warning(t(lang, "no_access", email=email))
            return
        ctx = context.sidebar(lang, access)
        if ctx is not None:
            if ctx.period is not None and (page.url_path or navigation.PAGES[0]) not in navigation.PERIOD_PAGES:
                st.caption(t(lang, "period_month_only", period=ctx.period_text, month=ctx.month_text))
            page.run()
    except data.WarehouseUnavailable as problem:
        # A missing or half-built warehouse is an expected state, not a crash: explain what to do.
        st.warning(t(lang, problem.reason, path=problem.path, **problem.detail))
    context.share_state()


main()
