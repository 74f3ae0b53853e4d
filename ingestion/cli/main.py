"""The `amokpi` command line: demo, mock-api, ingest, build, validate, run, publish, export, notify, report."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from amokpi.settings import PROJECT_ROOT, STREAMLIT_APP, postgres_credentials, report_path, target, warehouse_path


def _step(name: str, fn: Callable[[], object]) -> object:
    print(f"==> {name} ...", flush=True)
    started = time.monotonic()
    result = fn()
    print(f"<== {name} done in {time.monotonic() - started:.1f}s", flush=True)
    return result


@contextmanager
def _writing(wait: float = 0.0) -> Iterator[Path]:
    """The warehouse for a step that writes it: checked writable and unlocked, and held by us alone
    (a second `amokpi run`, build or publish waits up to `wait` seconds, then refuses)."""
    from ingestion.pipeline import locks
    from ingestion.pipeline.preflight import check_writable

    warehouse = warehouse_path()
    check_writable(warehouse)
    with locks.hold(locks.warehouse_lock_path(warehouse), f"warehouse {warehouse}", wait):
        yield warehouse


def _ingest(full_refresh: bool = False, since: str | None = None, wait: float = 0.0, **kwargs: object) -> None:
    from ingestion.pipeline.runner import IngestIncomplete, ingest

    if since:
        kwargs["since"] = _unix(since)
    try:
        summary = ingest(warehouse_path(), full_refresh=full_refresh, progress=True, lock_wait=wait, **kwargs)
    except IngestIncomplete as exc:
        print("    " + exc.summary.line())
        raise
    for table, rows in sorted(summary.rows.items()):
        print(f"    {table:<40} {rows:>8} rows")
    print("    " + summary.line())


def _unix(day: str) -> int:
    """`--since 2026-01-31` (UTC midnight) as unix seconds."""
    try:
        return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    except ValueError as exc:
        raise SystemExit(f"--since expects a date like 2026-01-31, not {day!r}") from exc


def _build(full_refresh: bool = False) -> None:
    from ingestion.pipeline.runner import build

    build(warehouse_path(), full_refresh=full_refresh)


def _duckdb_only(what: str) -> None:
    """The GX suites, the data-quality history, the serving copy and the report read the DuckDB warehouse."""
    from ingestion.pipeline.runner import StepFailed

    if target() != "duckdb":
        raise StepFailed(f"{what} works on the DuckDB warehouse only (AMOKPI_TARGET={target()}): on PostgreSQL, "
                         "BI tools read schema marts directly and `dbt build` runs the tests")


def _republish() -> None:
    from ingestion.pipeline.runner import republish

    _duckdb_only("amokpi publish")
    print(f"    serving copy: {republish(warehouse_path())}")


def cmd_export(args: argparse.Namespace) -> int:
    from ingestion.pipeline.export import ExportError, export

    target = args.to or warehouse_path().parent / "export"
    try:
        manifest = _step(f"export ({args.format})", lambda: export(target, args.format))
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"    {target} (manifest: {manifest})")
    return 0


def _validate() -> None:
    from ingestion.pipeline.runner import validate

    _duckdb_only("amokpi validate")
    validate(warehouse_path())


NOTHING_NEW = "nothing new loaded: dbt build skipped"


def _checked_steps(full_refresh: bool = False) -> None:
    """GX on raw -> source freshness -> dbt build (with its tests) -> publish, refusing to publish on an
    error-severity failure (freshness is recorded, never a reason to refuse). When the raw data, the dbt project
    and its vars are those of the last published build (ingestion/pipeline/build_state.py), all four are skipped:
    they would check and publish the same data. `full_refresh` always builds, from scratch."""
    from ingestion.pipeline.runner import QualityGate

    if target() == "postgres":  # dbt's tests and contracts are the gate; BI tools read the marts in place
        _step("dbt build", lambda: _build(full_refresh))
        where = postgres_credentials()
        print(f"    marts in PostgreSQL {where['host']}:{where['port']}/{where['database']}, schema marts")
        return
    gate = QualityGate(warehouse_path())
    unchanged = _step("compare with the last build", gate.unchanged)
    if unchanged and not full_refresh:
        print(f"    {NOTHING_NEW}: the raw data, seeds, dbt project and vars are those of the last published "
              "build, so raw checks, source freshness, build and publish are skipped and the report keeps its data "
              "(`amokpi run --full-refresh` rebuilds anyway)", flush=True)
        return
    print(f"    data quality run id: {gate.run_id}")
    # one dbt process for both (dbt's start-up, 7-9 s of a small machine's CPU, once), started now: it imports dbt
    # and parses the project (never opening the warehouse) while GX checks the raw data
    session = gate.start_build(full_refresh, freshness=True)
    try:
        _step("validate raw data", gate.validate_raw)
        _step("source freshness and dbt build", lambda: gate.build(full_refresh, freshness=True))
    finally:
        session.abandon()  # a no-op once it ran; else it ends unrun (validation could not finish)
    _step("publish", lambda: print(f"    serving copy: {gate.publish()}"))


def _serve_report(port: int, host: str = "127.0.0.1") -> int:
    """Streamlit in its own process group, stopped with us; settings from .streamlit/config.toml
    (run from the project root), the address from `--host` (loopback unless opened on purpose)."""
    from ingestion.pipeline.processes import Interrupted, run_child

    env = {**os.environ, "AMOKPI_REPORT": str(report_path(warehouse_path()))}  # its own copy, not the BI file
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    print(f"Report: http://{shown}:{port}  (Ctrl+C to stop)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"    listening on {host}: the report shows data only with sign-in configured (README, «Sign-in»);"
              " without it, it refuses", flush=True)
    cmd = [sys.executable, "-m", "streamlit", "run", str(STREAMLIT_APP), "--server.port", str(port),
           "--server.address", host]
    try:
        return run_child(cmd, env=env, cwd=PROJECT_ROOT)
    except Interrupted:
        return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ingestion.demo.account import generate_account
    from ingestion.demo.api import DemoApiServer

    os.environ["AMOKPI_DEMO_SEEDS"] = "1"  # the demo account's plans, spend, costs and hire dates
    with _writing(args.wait):
        account = _step("generate demo account", lambda: generate_account(seed=args.seed,
                                                                          leads_per_month=args.leads_per_month))
        print(f"    {account.counts()}")
        with DemoApiServer(account) as server:
            print(f"    demo amoCRM API on {server.base_url}")
            os.environ["SOURCES__AMOCRM__BASE_URL"] = server.base_url
            os.environ["SOURCES__AMOCRM__ACCESS_TOKEN"] = server.token
            # the embedded API has no rate limit; a real account keeps amoCRM's 7 requests/s
            _step("ingest", lambda: _ingest(full_refresh=True, requests_per_second=0))
        _checked_steps(full_refresh=True)
    if target() == "postgres":
        return 0  # the report reads the DuckDB serving copy
    print(f"Demo warehouse ready: {warehouse_path()}")
    if args.no_serve:
        return 0
    return _serve_report(args.port, args.host)


def cmd_mock_api(args: argparse.Namespace) -> int:
    from ingestion.demo.account import generate_account
    from ingestion.demo.api import DemoApiServer
    from ingestion.demo.faults import Faults
    from ingestion.demo.oauth import TokenAuthority

    authority = TokenAuthority(long_lived_tokens=(args.token,))
    faults = Faults(rate_limit_per_second=args.rate_limit or None)
    if args.size:
        from ingestion.demo.scalable import ScalableAccount, leads_of_size

        started = time.monotonic()
        account = ScalableAccount.generate(leads=leads_of_size(args.size), seed=args.seed)
        print(f"Generated size {args.size} in {time.monotonic() - started:.1f}s: {account.counts()} "
              f"({account.nbytes() / 1e6:.0f} MB of columns)", flush=True)
        if args.change_percent:
            done = account.change(args.change_percent, args.change_seed)
            print(f"Changed {args.change_percent}% (seed {args.change_seed}) at {done.at}: {done.counts()}",
                  flush=True)
    elif args.change_percent:
        raise SystemExit("--change-percent needs --size (the scalable account)")
    else:
        account = generate_account(seed=args.seed, leads_per_month=args.leads_per_month)
    server = DemoApiServer(account, host=args.host, port=args.port, token=args.token, faults=faults,
                           authority=authority)
    print(f"Demo amoCRM API on {server.base_url} (long-lived token: {args.token}); Ctrl+C to stop", flush=True)
    print(f"OAuth2: client_id={authority.client_id} client_secret={authority.client_secret} "
          f"redirect_uri={authority.redirect_uri} authorization code: {authority.issue_authorization_code()}",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def cmd_auth(args: argparse.Namespace) -> int:
    """Exchange an authorization code for the first OAuth2 token pair and store it."""
    import dlt

    from ingestion.amocrm.oauth import TokenStore, exchange_code

    def setting(key: str, secret: bool = False) -> str:
        value = (dlt.secrets if secret else dlt.config).get(f"sources.amocrm.{key}")
        if not value:
            raise SystemExit(f"missing sources.amocrm.{key} (env SOURCES__AMOCRM__{key.upper()})")
        return str(value)

    store = TokenStore(Path(setting("token_file")))
    pair = exchange_code(setting("base_url"), setting("client_id"), setting("client_secret", secret=True),
                         setting("redirect_uri"), args.code, store)
    print(f"OAuth2 tokens saved to {store.path} (access token valid until "
          f"{datetime.fromtimestamp(pair.expires_at, UTC):%Y-%m-%d %H:%M} UTC)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    with _writing(args.wait):
        _step("ingest", lambda: _ingest(full_refresh=args.full_refresh, since=args.since, wait=args.wait))
        _checked_steps(args.full_refresh)
    return cmd_notify(args) if args.notify else 0


def _moment(text: str | None) -> datetime | None:
    """`--now 2026-10-30T12:00:00+03:00` (no offset: UTC)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SystemExit(f"--now expects an ISO time like 2026-10-30T12:00:00+03:00, not {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_notify(args: argparse.Namespace) -> int:
    """Digests and new alerts from the published marts; 1 when a message could not be delivered."""
    from amokpi.notify import config, runner
    from amokpi.notify.sent_log import log_path
    from ingestion.pipeline import locks

    _duckdb_only("amokpi notify")
    try:
        settings = config.load()
        sent_log = log_path()
        with locks.hold(sent_log.with_name(sent_log.name + ".lock"), f"notify log {sent_log}", args.wait):
            summary = _step("notify", lambda: runner.run(settings, _moment(args.now), sent_log=sent_log))
    except (config.ConfigError, runner.NotifyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for group, lines in (("sent", summary.sent), ("FAILED", summary.failed), ("held back", summary.held),
                         ("skipped", summary.skipped)):
        for line in lines:
            print(f"    {group}: {line}")
    print("    " + summary.line())
    if summary.failed:
        print(f"error: {len(summary.failed)} message(s) not delivered; the next `amokpi notify` tries them again",
              file=sys.stderr)
        return 1
    return 0


def _add_now(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--now", metavar="TIME",
                        help="the time to decide quiet hours and the digest week by (ISO 8601; default: now)")


def _locked(name: str, fn: Callable[[], object]) -> Callable[[argparse.Namespace], object]:
    def command(args: argparse.Namespace) -> object:
        with _writing(args.wait):
            return _step(name, fn)
    return command


def _add_wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="if another run holds the account or the warehouse, wait this long for it "
                             "(default: refuse at once, naming its PID)")


def _add_host(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address the report listens on (default 127.0.0.1: this machine only; "
                             "0.0.0.0 opens it to the network)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amokpi", description="amoCRM sales-analytics warehouse")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="run everything on the embedded demo account, then serve the report")
    p.add_argument("--no-serve", action="store_true", help="stop before serving the report")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--leads-per-month", type=int, default=250)
    _add_host(p)
    _add_wait(p)
    p.set_defaults(fn=cmd_demo)

    p = sub.add_parser("mock-api", help="serve the demo amoCRM API on loopback until stopped")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--leads-per-month", type=int, default=250)
    p.add_argument("--token", default="demo-token")
    p.add_argument("--size", type=str.upper, choices=("S", "M", "L", "XL"),
                   help="serve the scalable account instead: S/M/L/XL = 10k/100k/500k/1M leads over 12 months "
                        "(not the default demo's data; POST /demo/change {\"percent\": 1, \"seed\": 2} changes it)")
    p.add_argument("--change-percent", type=float, default=0.0, metavar="X",
                   help="with --size: change X %% of the leads before serving (edits, stage moves, new leads, "
                        "deletions, all after the account's newest record)")
    p.add_argument("--change-seed", type=int, default=1)
    p.add_argument("--rate-limit", type=float, default=7.0,
                   help="requests per second before 429, as amoCRM (0: unlimited)")
    p.set_defaults(fn=cmd_mock_api)

    p = sub.add_parser("ingest", help="load the configured amoCRM account into raw_amocrm")
    p.add_argument("--full-refresh", action="store_true", help="drop the raw tables and cursors first")
    p.add_argument("--since", metavar="DATE", help="re-read everything changed since DATE (YYYY-MM-DD, UTC)")
    _add_wait(p)
    p.set_defaults(fn=lambda a: _locked("ingest", lambda: _ingest(full_refresh=a.full_refresh, since=a.since,
                                                                   wait=a.wait))(a))

    p = sub.add_parser("auth", help="exchange an amoCRM OAuth2 authorization code for tokens (first set-up)")
    p.add_argument("--code", required=True, help="the authorization code from amoCRM's consent redirect")
    p.set_defaults(fn=cmd_auth)

    p = sub.add_parser("build", help="dbt build (staging, intermediate, marts and their tests)")
    p.add_argument("--full-refresh", action="store_true", help="rebuild the incremental models from scratch")
    _add_wait(p)
    p.set_defaults(fn=lambda a: _locked("dbt build", lambda: _build(a.full_refresh))(a))

    p = sub.add_parser("validate", help="run the Great Expectations suites (the raw tables)")
    _add_wait(p)
    p.set_defaults(fn=_locked("validate", _validate))

    p = sub.add_parser("run", help="ingest + validate raw + build (with dbt's tests), then publish the serving copy "
                                   "(not on a data-quality error: the report keeps the last good data); "
                                   "when nothing new was loaded, the steps after ingest are skipped")
    p.add_argument("--full-refresh", action="store_true",
                   help="reload everything (raw tables and cursors dropped) and rebuild every model from scratch")
    p.add_argument("--since", metavar="DATE", help="re-read everything changed since DATE (YYYY-MM-DD, UTC)")
    p.add_argument("--notify", action="store_true", help="then `amokpi notify` (after a successful publish)")
    _add_now(p)
    _add_wait(p)
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser("publish", help="publish the marts of your own `dbt build` (after editing a seed, say) "
                                       "through the same quality gate as `run`, without reading amoCRM again")
    _add_wait(p)
    p.set_defaults(fn=_locked("publish", _republish))

    p = sub.add_parser("export", help="write the published marts as Parquet or CSV files, with a manifest of "
                                      "their columns and descriptions")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.add_argument("--to", type=Path, metavar="DIR", help="the folder (default: export/ beside the warehouse)")
    p.set_defaults(fn=cmd_export)

    p = sub.add_parser("notify", help="send the weekly digests and new high-severity alerts by Telegram and e-mail "
                                      "(recipients: seed notification_recipients; settings: notify.* dlt config)")
    _add_now(p)
    _add_wait(p)
    p.set_defaults(fn=cmd_notify)

    p = sub.add_parser("report", help="serve the Streamlit report")
    p.add_argument("--port", type=int, default=8501)
    _add_host(p)
    p.set_defaults(fn=lambda a: _serve_report(a.port, a.host))

    args = parser.parse_args(argv)
    try:
        result = args.fn(args)
        return result if isinstance(result, int) else 0
    except BaseException as exc:
        code = _explained(exc)
        if code is None:
            raise
        return code


def _explained(exc: BaseException) -> int | None:
    """Print a failure the command line explains in one line and return its exit code; None for any other.
    The failures' classes are imported here, on the way out: `export`, `notify` and `report` never load dlt
    (2.5 s of imports, through the amoCRM source and the runner) only to name what they might have caught."""
    import duckdb

    from ingestion.amocrm.client import AmoCrmError
    from ingestion.amocrm.oauth import OAuthError
    from ingestion.pipeline.locks import LockBusy
    from ingestion.pipeline.preflight import WarehouseUnavailable, explain
    from ingestion.pipeline.processes import Interrupted
    from ingestion.pipeline.runner import StepFailed

    if isinstance(exc, StepFailed | AmoCrmError | OAuthError | LockBusy | WarehouseUnavailable):
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if isinstance(exc, Interrupted):
        print(f"error: {exc}; the last published data is unchanged", file=sys.stderr)
        return 128 + exc.signum
    if isinstance(exc, duckdb.Error | OSError):  # a lock or a permission problem met past the preflight
        line = explain(exc, warehouse_path())
        if line is None:
            return None
        print(f"error: {line}", file=sys.stderr)
        return 1
    return None


if __name__ == "__main__":
    sys.exit(main())


