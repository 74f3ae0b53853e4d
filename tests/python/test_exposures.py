"""The report's dbt exposures (models/exposures.yml) list exactly the marts each page reads: the marts named
in the `streamlit_app/data.py` functions the page calls (directly, or through the constants and helpers
those functions use), plus the sidebar's, which every page reads. A page that starts reading a mart without
its exposure saying so fails here, so dbt's lineage never shows a mart as unused while the report reads it."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

from streamlit_app.navigation import PAGES

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app"
MART = re.compile(r"\b((?:mart|fct|dim)_\w+)\b")  # data_quality_runs is written by the pipeline, not a dbt model
REF = re.compile(r"ref\('(\w+)'\)")


@cache
def data_module() -> tuple[dict[str, str], dict[str, tuple[ast.FunctionDef, str]]]:
    """data.py's module constants (name -> source) and functions (name -> (node, source))."""
    source = (APP / "data.py").read_text()
    lines = source.splitlines(keepends=True)  # sliced per node: ast.get_source_segment re-splits the file each call

    def text(node: ast.stmt) -> str:
        return "".join(lines[node.lineno - 1:node.end_lineno])

    tree = ast.parse(source)
    constants = {node.targets[0].id: text(node) for node in tree.body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    functions = {node.name: (node, text(node)) for node in tree.body if isinstance(node, ast.FunctionDef)}
    return constants, functions


@cache
def marts_read_by(function: str) -> frozenset[str]:
    """The marts named in `function`, in the module constants it uses and in every data.py function it calls,
    however deep (each function looked at once)."""
    constants, functions = data_module()
    found: set[str] = set()
    todo, seen = [function], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        node, text = functions[name]
        found |= set(MART.findall(text))
        for used in {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}:
            if used in constants:
                found |= set(MART.findall(constants[used]))
            if used in functions:
                todo.append(used)
    return frozenset(found)


@cache
def data_calls(path: Path) -> frozenset[str]:
    functions = data_module()[1]
    return frozenset(n.attr for n in ast.walk(ast.parse(path.read_text()))
                     if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "data"
                     and n.attr in functions)


def reads(*paths: Path) -> set[str]:
    return {mart for path in paths for call in data_calls(path) for mart in marts_read_by(call)}


def exposures() -> dict[str, set[str]]:
    document = yaml.safe_load((ROOT / "models" / "exposures.yml").read_text())
    return {e["name"]: set(REF.findall(" ".join(e["depends_on"]))) for e in document["exposures"]}


def test_the_analysis_sees_what_a_page_reads() -> None:
    # the check must bite: known reads are found, through constants (_ALERTS_OF_MONTH) and helpers (_lead_select)
    assert "mart_alerts" in marts_read_by("manager_ranking")
    assert {"fct_kpi_leads", "fct_leads"} <= marts_read_by("kpi_leads")
    assert "mart_manager_kpi_periods" in reads(APP / "report_pages" / "overview.py")


@pytest.mark.parametrize("page", PAGES)
def test_each_pages_exposure_lists_the_marts_it_reads(page: str) -> None:
    sidebar = reads(APP / "app.py", APP / "context.py", APP / "ui.py")
    assert exposures()[f"report_{page}"] == sidebar | reads(APP / "report_pages" / f"{page}.py")


def test_every_page_has_an_exposure_and_every_exposure_a_page() -> None:
    assert set(exposures()) == {f"report_{page}" for page in PAGES}
