"""GX Data Docs for a run: one HTML page per suite rendered by GX, plus an index page.

Written into `<warehouse dir>/gx_docs/<warehouse stem>/` (data/gx_docs/warehouse/ for the default
warehouse) and replaced by each validation, so the folder always shows the latest results.
"""

from __future__ import annotations

import html
import logging
import shutil
from pathlib import Path

from expectations.runner import SuiteResult


def docs_dir(warehouse: Path) -> Path:
    return Path(warehouse).parent / "gx_docs" / Path(warehouse).stem


def build_docs(warehouse: Path, suites: list[SuiteResult], run_id: str) -> Path:
    """Render `suites` (one or both layers of one run) and return the index page."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    target = docs_dir(warehouse)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rows = []
    renderer, view = ValidationResultsPageRenderer(), DefaultJinjaPageView()
    quiet = logging.getLogger("great_expectations")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # GX logs (and renders around) numpy floats it cannot format
    try:
        for suite in suites:
            page = None
            if suite.gx_result is not None:
                page = f"{suite.name}.html"
                (tmp / page).write_text(view.render(renderer.render(suite.gx_result)))
            errors = sum(f.severity == "error" for f in suite.failures)
            warns = sum(f.severity == "warn" for f in suite.failures)
            status = "FAIL" if errors else ("WARN" if warns else "PASS")
            link = f'<a href="{page}">{html.escape(suite.name)}</a>' if page else html.escape(suite.name)
            rows.append(f"<tr><td>{status}</td><td>{link}</td><td>{html.escape(suite.table)}</td>"
                        f"<td>{suite.passed}/{suite.evaluated}</td><td>{suite.rows if suite.rows is not None else ''}"
                        f"</td><td>{html.escape(suite.line())}</td></tr>")
    finally:
        quiet.setLevel(level)
    (tmp / "index.html").write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>amokpi data docs</title></head><body>"
        f"<h1>Great Expectations results — run {html.escape(run_id)}</h1>"
        "<table border='1' cellpadding='4'><tr><th>status</th><th>suite</th><th>table</th><th>passed</th>"
        "<th>rows</th><th>summary</th></tr>" + "".join(rows) + "</table></body></html>")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target / "index.html"
