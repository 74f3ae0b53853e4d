"""`make bench SIZES="S M L XL"`: one table per size of the scalable demo account (S/M/L/XL = 10k/100k/500k/1M
leads), each step a real process on loopback, as a user runs it:

1. `amokpi mock-api --size X --rate-limit 0`: the generate time it prints; its peak memory (generator + API,
   VmHWM) read at the end.
2. `amokpi ingest --full-refresh` through the real dlt source over HTTP, unthrottled: seconds, rows/s, peak memory;
   then the same pages read by a bare `requests` + `json.loads` loop and (at S, `--dlt-defaults`) by dlt's
   `rest_api` source with its defaults (bench/ingest_baselines.py), and the ratios ingest ÷ bare fetch and
   ingest ÷ dlt defaults.
3. `amokpi validate`, `amokpi build`, `amokpi publish` and `amokpi export` of the full load (unless --no-run), each
   its own process (seconds, peak memory); the full run is the sum of ingest, validate, build and publish.
4. `amokpi run`: the first run after that (it rebuilds: a publish of one's own build clears the build record), each
   step's time as the run prints it (`<== step done in N s`) and the run's peak memory (dbt included: it is a
   waited-for child).
5. `amokpi run` again: the no-change run (nothing new loaded: checks, build and publish skipped).
6. `POST /demo/change {"percent": 1, "seed": 2}`, then `amokpi run` again: the 1 %-change run; both as a share
   of the full run.
7. The warehouse file's size.

Peak memory is the kernel's high-water mark of the process and its waited-for children (wait4). Prints figures;
asserts nothing about speed. L took ~25 minutes and ~5 GB on two quiet cores; XL
needs about twice that (README, "Benchmarks").
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

AMOKPI = str(Path(sys.executable).with_name("amokpi"))
BASELINES = Path(__file__).with_name("ingest_baselines.py")
TOKEN = "demo-token"


@dataclass
class Step:
    seconds: float
    peak_mb: float
    output: str
    cpu_seconds: float = 0.0  # user + system, with waited-for children: what a busy machine does not inflate

    def step_times(self) -> dict[str, float]:
        return {m.group(1): float(m.group(2)) for m in re.finditer(r"<== (.+?) done in ([\d.]+)s", self.output)}

    def rows(self) -> int:
        found = re.search(r"ingest: (\d+) rows", self.output)
        return int(found.group(1)) if found else 0


@dataclass
class Table:
    size: str
    lines: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, step: str, seconds: float | str, figure: str = "", peak_mb: float | str = "") -> None:
        sec = f"{seconds:,.1f}" if isinstance(seconds, float) else seconds
        mem = f"{peak_mb:,.0f}" if isinstance(peak_mb, float) else peak_mb
        self.lines.append((step, sec, figure, mem))

    def print(self) -> None:
        print(f"\n| size {self.size} | seconds | figure | peak MB |\n|---|---:|---|---:|")
        for step, sec, figure, mem in self.lines:
            print(f"| {step} | {sec} | {figure} | {mem} |")
        print(flush=True)


def run(args: list[str], env: dict[str, str]) -> Step:
    """A command to its end: wall time, the peak RSS of it and its waited-for children, its output."""
    started = time.monotonic()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = "".join(output)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[1:])} failed ({proc.returncode}):\n{text[-4000:]}")
    return Step(time.monotonic() - started, usage.ru_maxrss / 1024, text, usage.ru_utime + usage.ru_stime)


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def baseline(kind: str, base_url: str, work: Path) -> tuple[dict[str, float], Step]:
    """One yardstick of bench/ingest_baselines.py in its own process: its figures and its peak memory."""
    step = run([sys.executable, str(BASELINES), kind, base_url, TOKEN, str(work)], dict(os.environ))
    return json.loads(step.output.strip().splitlines()[-1]), step


def compare_ingest(table: Table, ingest: Step, base_url: str, work: Path, with_dlt_defaults: bool) -> None:
    """The ingest's rate against a bare fetch + json.loads of the same pages, and against dlt's rest_api
    with its defaults, each as records/s over its own reading time (interpreter start and imports left out
    of all three). Run after the ingest, so the demo API's per-listing selections are warm for them, not
    for the ingest: the ratios lean against the ingest, if anything. CPU seconds (whole processes, imports
    included) are printed too: on a busy machine they move far less than wall time."""
    found = re.search(r"ingest: (\d+) rows .* in ([\d.]+)s", ingest.output)
    if not found:
        table.add("ingest ÷ bare fetch", "", "no ingest figure printed")
        return
    rate = int(found.group(1)) / float(found.group(2))
    bare, step = baseline("bare", base_url, work)
    bare_rate = bare["records"] / bare["seconds"]
    table.add("bare fetch (requests + json.loads)", bare["seconds"],
              f"{bare['records']:,} records, {bare_rate:,.0f} records/s, {step.cpu_seconds:,.1f} CPU-s", step.peak_mb)
    table.add("**ingest ÷ bare fetch**", "", f"**{rate / bare_rate:.2f}** ({rate:,.0f} ÷ {bare_rate:,.0f} records/s; "
              f"target ≥ 0.50); CPU: bare ÷ ingest {step.cpu_seconds / max(ingest.cpu_seconds, 1e-9):.2f}")
    if not with_dlt_defaults:
        return
    defaults, step = baseline("dlt", base_url, work)
    defaults_rate = defaults["records"] / defaults["seconds"]
    table.add("dlt rest_api, defaults", defaults["seconds"],
              f"{defaults['records']:,} records, {defaults_rate:,.0f} records/s, {step.cpu_seconds:,.1f} CPU-s",
              step.peak_mb)
    table.add("**ingest ÷ dlt defaults**", "", f"**{rate / defaults_rate:.2f}** ({rate:,.0f} ÷ "
              f"{defaults_rate:,.0f} records/s)")


def bench(size: str, work: Path, with_run: bool, with_dlt_defaults: bool) -> Table:
    table = Table(size)
    server = subprocess.Popen([AMOKPI, "mock-api", "--size", size, "--port", "0", "--rate-limit", "0",
                               "--token", TOKEN], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    try:
        generated, base_url = "", ""
        for line in server.stdout or []:
            if line.startswith("Generated"):
                generated = line
            found = re.match(r"Demo amoCRM API on (\S+)", line)
            if found:
                base_url = found.group(1)
                break
        if not base_url:
            raise SystemExit(f"mock-api --size {size} did not start: {generated}")
        gen = re.search(r"in ([\d.]+)s: (\{.*\}) \((\d+) MB", generated)
        counts = ast.literal_eval(gen.group(2)) if gen else {}
        records = sum(v for k, v in counts.items() if k not in ("users", "pipelines"))
        table.add("generate", float(gen.group(1)) if gen else "?",
                  f"{counts.get('leads', 0):,} leads, {records:,} records, {gen.group(3) if gen else '?'} MB columns")
        warehouse = work / size / "warehouse.duckdb"
        warehouse.parent.mkdir(parents=True)
        env = {**os.environ, "AMOKPI_WAREHOUSE": str(warehouse), "SOURCES__AMOCRM__BASE_URL": base_url,
               "SOURCES__AMOCRM__ACCESS_TOKEN": TOKEN, "SOURCES__AMOCRM__REQUESTS_PER_SECOND": "0",
               # the per-run page bound (20 000) stops L and XL's events (100 a page) part-way, as it would
               # a real account that large: raised to fit the account, as its README section says
               "SOURCES__AMOCRM__MAX_PAGES": str(max(20_000, counts.get("events", 0) // 100 * 2)),
               "AMOKPI_DEMO_SEEDS": "1", "AMOKPI_LOCK_DIR": str(work / "locks"),
               "DBT_TARGET_PATH": str(work / size / "target")}
        for name in ("AMOKPI_SERVING", "AMOKPI_REPORT"):
            env.pop(name, None)
        full = run([AMOKPI, "ingest", "--full-refresh"], env)
        rows = full.rows()
        table.add("ingest, full, unthrottled", full.seconds, f"{rows:,} rows, {rows / full.seconds:,.0f} rows/s, "
                  f"{full.cpu_seconds:,.1f} CPU-s", full.peak_mb)
        compare_ingest(table, full, base_url, work / size, with_dlt_defaults)
        if with_run:
            checked = run([AMOKPI, "validate"], env)
            suites = re.findall(r"^raw_\w+: \d+/\d+ expectations passed \((\d+) rows\)", checked.output, re.M)
            table.add("`amokpi validate` (GX on the raw tables)", checked.seconds,
                      f"{len(suites)} suites, {sum(map(int, suites)):,} rows checked", checked.peak_mb)
            built = run([AMOKPI, "build"], env)
            table.add("`amokpi build` (dbt build, full)", built.seconds, f"{built.cpu_seconds:,.1f} CPU-s",
                      built.peak_mb)
            published = run([AMOKPI, "publish"], env)
            table.add("`amokpi publish`", published.seconds, f"{published.cpu_seconds:,.1f} CPU-s",
                      published.peak_mb)
            exported = run([AMOKPI, "export", "--to", str(work / size / "export")], env)
            table.add("`amokpi export` (Parquet, not part of a run)", exported.seconds,
                      f"{exported.cpu_seconds:,.1f} CPU-s; every range of months written out", exported.peak_mb)
            # the steps `amokpi run` takes on a first load, each timed above as its own process
            whole = full.seconds + checked.seconds + built.seconds + published.seconds
            table.add("full run (ingest + validate + build + publish)", whole, "the sum of the four rows above",
                      max(full.peak_mb, checked.peak_mb, built.peak_mb, published.peak_mb))
            runs: dict[str, float] = {}
            for label, change in (("first (rebuilds)", None), ("no-change", None),
                                  ("1 %-change", {"percent": 1, "seed": 2})):
                if change:
                    answer = requests.post(base_url + "/demo/change", json=change, timeout=600,
                                           headers={"Authorization": f"Bearer {TOKEN}"})
                    answer.raise_for_status()
                done = run([AMOKPI, "run"], env)
                runs[label] = done.seconds
                steps = done.step_times()
                detail = ", ".join(f"{name} {sec:.1f}" for name, sec in steps.items())
                if "nothing new loaded" in done.output:
                    detail += "; nothing new loaded: build skipped"
                table.add(f"`amokpi run`, {label}", done.seconds, f"{done.rows():,} rows ingested; {detail}",
                          done.peak_mb)
            for label in ("no-change", "1 %-change"):
                table.add(f"{label} run ÷ full run", "", f"**{runs[label] / whole:.1%}** of the full run's "
                          f"{whole:,.1f} s")
        table.add("warehouse file", "", f"{warehouse.stat().st_size / 1e6:,.0f} MB")
        table.add("mock-api (generator + API)", "", "peak over the whole bench", peak_mb(server.pid))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", default=["S", "M"], help="S, M, L, XL (default: S M)")
    parser.add_argument("--no-run", action="store_true", help="generate and ingest only (no validate/build/publish)")
    parser.add_argument("--dlt-defaults", default="S", metavar="SIZES",
                        help="sizes at which to time dlt's rest_api defaults too (default: S; it needs ~10 GB "
                             "of memory at S, most of it DuckDB loading its INSERT files)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="work in DIR and keep it (each size's warehouse, report copy and dbt target), e.g. to "
                             "time the report on it with bench/report_bench.py; default: a temporary directory")
    args = parser.parse_args()
    tables = []
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with (contextlib.nullcontext(str(args.keep)) if args.keep
          else tempfile.TemporaryDirectory(prefix="amokpi-scale-")) as tmp:
        for size in [s.upper() for s in args.sizes]:
            print(f"== size {size} ...", flush=True)
            tables.append(bench(size, Path(tmp), not args.no_run,
                                size in args.dlt_defaults.upper().split()))
            tables[-1].print()
    print("## scalable demo account, all sizes")
    for table in tables:
        table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
