"""Real `amokpi` processes, signalled and obstructed the way a server's life does it: children end
with their parent, the warehouse is never left locked, and every lock or permission problem is
one `error:` line that names the holder or says what to fix."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import duckdb
import pytest
from local_processes import free_port, wait_for

AMOKPI = str(Path(sys.executable).with_name("amokpi"))


def children_of(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the live processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append((int(entry.name), cmdline))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def amokpi(*args: str, warehouse: Path, **popen: object) -> subprocess.Popen:
    env = {**os.environ, "AMOKPI_WAREHOUSE": str(warehouse)}
    return subprocess.Popen([AMOKPI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)


@pytest.fixture()
def warehouse(demo_warehouse, tmp_path: Path) -> Path:
    """A copy of the demo warehouse (its raw data is what `amokpi build` needs)."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse.warehouse, copy)
    return copy


def dbt_child(parent: subprocess.Popen) -> int:
    found = wait_for(lambda: [pid for pid, cmd in children_of(parent.pid) if "dbt" in cmd] or parent.poll() is not None,
                     120, "dbt to start")
    assert isinstance(found, list), f"amokpi build ended before dbt started: {parent.communicate()}"
    return found[0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_killing_amokpi_build_ends_dbt_and_frees_the_warehouse(warehouse: Path, signum: int) -> None:
    build = amokpi("build", warehouse=warehouse)
    try:
        dbt = dbt_child(build)
        if signum == signal.SIGTERM:
            # meanwhile a second build of the same warehouse is refused, naming the first
            second = amokpi("build", warehouse=warehouse)
            _, error = second.communicate(timeout=120)
            assert second.returncode == 1
            assert error.strip().splitlines() == [error.strip()]
            assert error.startswith(f"error: warehouse {warehouse} is in use by PID {build.pid} (`amokpi build`")
        build.send_signal(signum)
        _, error = build.communicate(timeout=120)
        # SIGTERM is passed on to dbt's process group; SIGKILL leaves the kernel's death signal to do it
        wait_for(lambda: not alive(dbt), 60, f"dbt (PID {dbt}) to end with its parent")
    finally:
        if build.poll() is None:
            build.kill()
    if signum == signal.SIGTERM:
        assert build.returncode == 128 + signal.SIGTERM
        assert error.strip().splitlines()[-1] == "error: stopped by SIGTERM; the last published data is unchanged"
    duckdb.connect(str(warehouse)).close()  # nobody holds the warehouse any more


def test_report_listens_on_loopback_only_and_stops_with_its_parent(demo_warehouse, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "AMOKPI_WAREHOUSE": str(demo_warehouse.warehouse)}  # the report reads its own copy
    report = subprocess.Popen([AMOKPI, "report", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _health(port), 90, "the report to answer")
        assert _listening(port) == {"127.0.0.1"}  # not 0.0.0.0, not every interface
        streamlit = [pid for pid, cmd in children_of(report.pid) if "streamlit" in cmd]
        assert len(streamlit) == 1
        report.send_signal(signal.SIGTERM)
        assert report.wait(timeout=60) == 0
        wait_for(lambda: not alive(streamlit[0]), 30, "streamlit to stop with `amokpi report`")
        assert _listening(port) == set()
    finally:
        if report.poll() is None:
            report.kill()


def _health(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
            return answer.read() == b"ok"
    except OSError:
        return False


def _listening(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port`, from the kernel's own table."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if width == 8:
                    found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
                else:
                    words = bytes.fromhex(address)
                    native = b"".join(words[i:i + 4][::-1] for i in range(0, 16, 4))  # 4 little-endian words
                    found.add(socket.inet_ntop(socket.AF_INET6, native))
    return found


HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])  # read-write, as the duckdb shell opens a file by default
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("command", [["build"], ["validate"], ["run"]])
def test_a_warehouse_open_read_write_elsewhere_is_one_error_line(warehouse: Path, command: list[str]) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        done = amokpi(*command, warehouse=warehouse)
        out, error = done.communicate(timeout=120)
    finally:
        holder.communicate("", timeout=30)
    assert done.returncode == 1
    assert error.strip().splitlines() == [error.strip()], error
    assert error.startswith(f"error: {warehouse} is open read-write in another process: PID {holder.pid} ")
    assert "Traceback" not in out + error


def _unprivileged() -> list[str] | None:
    """A prefix that runs a command as an unprivileged user (root writes anywhere), or None if that
    user cannot run this checkout's interpreter (a clone inside a private directory)."""
    if os.geteuid() != 0:
        return []
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    try:
        trial = subprocess.run([*prefix, AMOKPI, "--help"], capture_output=True, timeout=60)
    except OSError:
        return None
    return prefix if trial.returncode == 0 else None


def test_a_directory_the_run_cannot_write_is_one_error_line() -> None:
    base = Path(tempfile.mkdtemp(prefix="amokpi-readonly-"))
    try:
        prefix = _unprivileged()
        if prefix is not None:  # a read-only directory, as a service account meets it
            base.chmod(0o755)
            locked = base / "data"
            locked.mkdir(mode=0o555)
            locked.chmod(0o555)
        else:  # root, and no user to drop to: sysfs refuses even root
            prefix, locked = [], Path("/sys/amokpi-data")
        env = {**os.environ, "AMOKPI_WAREHOUSE": str(locked / "warehouse.duckdb"), "HOME": str(base)}
        for command in (["build"], ["run"]):
            done = subprocess.run([*prefix, AMOKPI, *command], env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 1, done.stderr
            line = done.stderr.strip()
            assert line.splitlines() == [line]
            assert line.startswith(f"error: cannot write {locked}: ")
            assert line.endswith(": Permission denied; make that directory writable for this user, or set "
                                 "AMOKPI_WAREHOUSE to a path that is") or "Operation not permitted;" in line
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_dbt_started_ahead_never_opens_the_warehouse_and_ends_unrun_when_abandoned(tmp_path: Path) -> None:
    """`amokpi run` starts its dbt process before it validates the raw data (runner.DbtSession): dbt parses
    meanwhile, while GX holds the warehouse read-write, so the parse must never open it; and when the run never
    gets to the build (validation could not finish), the session must end without running anything."""
    from ingestion.pipeline import dbt_session, runner

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:  # the read-write lock, as the validation step holds it
        con.execute("create table before_dbt as select 1 as x")
        session = runner.DbtSession("build", warehouse, before=["source freshness"])
        session.abandon()  # it reads its input only after parsing: a parse that needed the file would exit 2
    assert session.child.returncode == dbt_session.NOT_RUN
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    assert tables == [("main", "before_dbt")]  # nothing built, no schema made
