"""The report's pages: one file each under `report_pages/`, a stable URL path, a title in the reader's language.

The folder is deliberately not called `pages/`: Streamlit (1.67) treats a `pages/` folder beside the
entrypoint as a legacy multipage app until `st.navigation` has run once in the server process
(`PagesManager.uses_pages_directory`), so the first request after a restart to a shared `/funnel?…` link
would run the page file bare, without the sidebar and its context.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from streamlit_app.labels import Lang, t

PAGES_DIR = Path(__file__).resolve().parent / "report_pages"
# name = file stem = URL path (`/funnel?month=…`) = labels key of the title; the first is the home page (`/`).
PAGES = ("overview", "funnel", "pipeline_history", "managers", "manager", "onboarding", "scorecard", "targets",
         "marketing", "alerts", "quality")

# the pages whose figures follow the period filter (quarter, year to date); the others show the chosen month
PERIOD_PAGES = ("overview", "managers")


def titles(lang: Lang) -> dict[str, str]:
    return {name: t(lang, name) for name in PAGES}


def pages(lang: Lang) -> dict[str, st.Page]:
    """The st.Page objects for st.navigation (they need a script run: build them in the app)."""
    return {name: st.Page(PAGES_DIR / f"{name}.py", title=title, url_path=name, default=(name == PAGES[0]))
            for name, title in titles(lang).items()}


def legacy_page(pages: dict[str, st.Page]) -> None:
    """Old links named the page in the query (`?page=funnel&month=…`): go to that page, keeping the filters."""
    if "page" not in st.query_params:
        return
    rest = {key: value for key, value in st.query_params.items() if key != "page"}
    target = pages.get(st.query_params["page"])
    if target is None:  # an unknown page name: just drop it
        st.query_params.from_dict(rest)
        return
    st.switch_page(target, query_params=rest)
