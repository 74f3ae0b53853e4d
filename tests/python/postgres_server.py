"""A throwaway PostgreSQL server for tests and `make bench`: initdb in a temp directory, postgres on
127.0.0.1 on a free port (its unix socket in that directory, never /var/run), stopped and removed at
the end. PostgreSQL refuses to run as root, so under root the cluster belongs to an unprivileged
system user (`postgres` when the machine has one, else `nobody`) and its processes run as that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from local_processes import free_port

START_SECONDS = 60  # initdb and the first start take ~3 s on an idle box; a noisy CI box is slower
BIN_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/15/bin")


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    def env(self) -> dict[str, str]:
        """The settings amokpi reads (amokpi/settings.py) to build, ingest into and query this server."""
        return {"AMOKPI_TARGET": "postgres", "AMOKPI_PG_HOST": self.host, "AMOKPI_PG_PORT": str(self.port),
                "AMOKPI_PG_USER": self.user, "AMOKPI_PG_PASSWORD": self.password, "AMOKPI_PG_DBNAME": self.dbname}


def binary(name: str) -> str:
    """`name` (initdb, pg_ctl) from PATH or the Debian package's directory; FileNotFoundError with advice."""
    found = shutil.which(name) or next((str(Path(d) / name) for d in BIN_DIRS if (Path(d) / name).exists()), None)
    if found is None:
        raise FileNotFoundError(f"{name} not found: install PostgreSQL 15 (`make postgres`)")
    return found


def _owner() -> pwd.struct_passwd | None:
    """The unprivileged user the cluster runs as when we are root (None: ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


def _run(cmd: list[str], owner: pwd.struct_passwd | None, env: Mapping[str, str], timeout: float) -> None:
    as_owner = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []} if owner else {}
    done = subprocess.run(cmd, env=dict(env), capture_output=True, text=True, timeout=timeout, cwd="/",
                          **as_owner)
    if done.returncode != 0:
        output = done.stdout[-2000:] + done.stderr[-2000:]
        raise RuntimeError(f"{cmd[0]} {cmd[1]} failed ({done.returncode}): {output}")


def _create_database(server: PostgresServer) -> None:
    import psycopg2

    con = psycopg2.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                           dbname="postgres", connect_timeout=10)
    try:
        con.autocommit = True  # CREATE DATABASE refuses to run in a transaction
        with con.cursor() as cur:
            cur.execute(f'create database "{server.dbname}"')
    finally:
        con.close()


@contextmanager
def postgres_server(dbname: str = "amokpi") -> Iterator[PostgresServer]:
    """A running PostgreSQL 15 on loopback, database `dbname` owned by a password user; gone afterwards."""
    owner = _owner()
    root = Path(tempfile.mkdtemp(prefix="amokpi-pg-"))  # directly under /tmp: the owner must reach it
    data, password_file = root / "data", root / "password"
    user, password = "amokpi", "amokpi-test"
    password_file.write_text(password + "\n")
    if owner:
        for path in (root, password_file):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    pg_ctl = binary("pg_ctl")
    started = False
    try:
        _run([binary("initdb"), "-D", str(data), "-U", user, "--pwfile", str(password_file), "-A", "scram-sha-256",
              "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"], owner, env, START_SECONDS)
        port = free_port()
        # fsync off and no autovacuum: a test cluster lives minutes and is thrown away
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off "
                   "-c max_connections=40 -c shared_buffers=128MB -c timezone=UTC")
        _run([pg_ctl, "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "-t",
              str(START_SECONDS), "start"], owner, env, START_SECONDS + 10)
        started = True
        server = PostgresServer("127.0.0.1", port, user, password, dbname)
        _create_database(server)
        yield server
    finally:
        if started:
            try:
                _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop"], owner, env, 40)
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                print(f"warning: could not stop the test PostgreSQL: {error}")
        shutil.rmtree(root, ignore_errors=True)
