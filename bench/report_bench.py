"""`make bench`: how long each report page takes to render, on the demo account and on a 100k-lead stand-in.

Every page in Russian, plus the overview and the leaderboard over a quarter and over a range of months, each
rendered by Streamlit's AppTest with the data cache cleared first (what a reader pays on a fresh filter),
median of `--runs`; wall time and the process's CPU time (less sensitive to a busy machine; DuckDB's threads
count in it). The report reads one published file through one cached connection (streamlit_app/data.py).

The 100k-lead stand-in: the demo's published report file with every lead-grain mart (fct_leads, the drill-down
lists, lead alerts) and the KPI facts repeated `--scale` times under new lead ids, and the monthly sums of the
facts multiplied to match. Manager-, team- and month-grain marts keep their size, as a 100k account with the
same ten managers and twelve months would. A real 100k account through the whole pipeline needs the scalable
demo account of issue 15.

    python bench/report_bench.py [--report FILE] [--scale 33] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from amokpi.settings import PROJECT_ROOT

LEAD_TABLES = ("fct_leads", "fct_kpi_leads", "fct_funnel_stage_leads", "fct_kpi_facts")
ID_OFFSET = 100_000_000  # a copy's lead ids: far above any real one


def demo_report(workdir: Path) -> Path:
    """Run the demo pipeline into `workdir` and return its published report file."""
    env = {**os.environ, "AMOKPI_WAREHOUSE": str(workdir / "warehouse.duckdb")}
    env.pop("AMOKPI_REPORT", None)
    env.pop("AMOKPI_SERVING", None)
    subprocess.run([str(Path(sys.executable).with_name("amokpi")), "demo", "--no-serve"], env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=1800)
    return workdir / "warehouse.report.duckdb"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [c for (c,) in con.execute("select column_name from information_schema.columns where table_schema ="
                                      " 'marts' and table_name = ? order by ordinal_position", [table]).fetchall()]


def scaled_copy(report: Path, target: Path, scale: int) -> int:
    """Write the stand-in to `target`; return its lead count."""
    shutil.copyfile(report, target)
    os.chmod(target, 0o644)
    with duckdb.connect(str(target)) as con:
        for table in LEAD_TABLES:
            columns = _columns(con, table)
            shifted = ", ".join("lead_id + ? * cast(? as bigint) as lead_id" if c == "lead_id" else f'"{c}"'
                                for c in columns)
            con.execute(f"create temp table base as select * from marts.{table}")
            for copy in range(1, scale):
                params = [copy, ID_OFFSET] if "lead_id" in columns else []
                con.execute(f"insert into marts.{table} select {shifted} from base", params)
            con.execute("drop table base")
        columns = _columns(con, "mart_alerts")
        shifted = ", ".join("alert_id || ':' || ? as alert_id" if c == "alert_id"
                            else "lead_id + ? * cast(? as bigint) as lead_id" if c == "lead_id" else f'"{c}"'
                            for c in columns)
        con.execute("create temp table base as select * from marts.mart_alerts where lead_id is not null")
        for copy in range(1, scale):
            params = [p for c in columns for p in ([str(copy)] if c == "alert_id" else [copy, ID_OFFSET]
                                                    if c == "lead_id" else [])]
            con.execute(f"insert into marts.mart_alerts select {shifted} from base", params)
        sums = [c for c in _columns(con, "fct_kpi_components_monthly")
                if c not in ("account_id", "month_start", "manager_id", "group_id")]
        con.execute("update marts.fct_kpi_components_monthly set " + ", ".join(f"{c} = {c} * {scale}" for c in sums))
        (leads,) = con.execute("select count(*) from marts.fct_leads").fetchone()
        con.execute("checkpoint")
    return int(leads)


def page_times(report: Path, runs: int) -> dict[str, tuple[float, float]]:
    """{view: (median wall seconds, median CPU seconds)} for every page and the period views."""
    os.environ["AMOKPI_REPORT"] = str(report)
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from streamlit_app import data
    from streamlit_app.navigation import PAGES

    data.release()
    with duckdb.connect(str(report), read_only=True) as con:
        months = [m for (m,) in con.execute("select distinct month_start from marts.mart_department_kpi_monthly"
                                            " order by 1 desc").fetchall()]
    month, first = months[1], months[min(6, len(months) - 1)]  # the last whole month; half a year back
    views = [(page, {}) for page in PAGES]
    views += [(page, {"period": "quarter", "month": month.isoformat()}) for page in ("overview", "managers")]
    views += [(page, {"period": "range", "month": month.isoformat(), "from": first.isoformat()})
              for page in ("overview", "managers")]
    found: dict[str, tuple[float, float]] = {}
    for page, query in views:
        walls, cpus = [], []
        for _ in range(runs):
            at = AppTest.from_file(str(PROJECT_ROOT / "streamlit_app" / "app.py"), default_timeout=120)
            at.query_params.update(lang="ru", **query)
            at.run()
            st.cache_data.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            (at.run() if page == PAGES[0] else at.switch_page(f"report_pages/{page}.py").run())
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
            if at.exception:
                raise RuntimeError(f"{page} {query}: {[e.value for e in at.exception]}")
        found[page + (f" ({query['period']})" if query else "")] = (statistics.median(walls), statistics.median(cpus))
    data.release()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="a published report file (default: run the demo first)")
    parser.add_argument("--scale", type=int, default=33, help="lead copies in the stand-in (33: ~100k leads)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="amokpi-report-bench-") as tmp:
        workdir = Path(tmp)
        report = args.report or demo_report(workdir)
        big = workdir / "stand-in.report.duckdb"
        leads = scaled_copy(report, big, args.scale)
        with duckdb.connect(str(report), read_only=True) as con:
            (demo_leads,) = con.execute("select count(*) from marts.fct_leads").fetchone()
        load = os.getloadavg()[0]
        small, large = page_times(report, args.runs), page_times(big, args.runs)
    print(f"\nreport pages, median of {args.runs} (load average {load:.1f} -> {os.getloadavg()[0]:.1f}; "
          "wall s / CPU s)")
    print(f"{'view':26s} {f'demo, {demo_leads:,} leads':>22s} {f'stand-in, {leads:,} leads':>24s}")
    for view, (wall, cpu) in small.items():
        big_wall, big_cpu = large[view]
        print(f"{view:26s} {wall:10.3f} / {cpu:6.3f}   {big_wall:10.3f} / {big_cpu:6.3f}")
    worst = max(large.values())[0]
    print(f"slowest page on the stand-in: {worst:.3f} s wall (goal: 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
