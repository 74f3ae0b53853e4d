"""Inter-process locks: one run per amoCRM account, one writer per warehouse.

Two runs of one account at once would share amoCRM's 7 requests/s between two limiters that do
not know of each other (cron overlap, a manual run during the nightly one): amoCRM answers 429
and then blocks the account. Two writers of one warehouse would fight over DuckDB's file lock.
So the account lock is keyed by the account's address and lives in one directory for the whole
machine (`AMOKPI_LOCK_DIR`, default `~/.cache/amokpi/locks`), whichever warehouse a run writes;
the warehouse lock sits beside the warehouse.

`fcntl.flock` is used rather than a lock file's mere existence: the kernel drops the lock when
its holder dies, however it dies, so a crashed run never leaves a stale lock behind. The holder
writes its PID and command into the file so the refusal can name it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit


class LockBusy(RuntimeError):
    """Another process holds the lock; the message names it and says what to do."""


_held: dict[Path, int] = {}  # locks this process holds -> depth: a step inside `amokpi run` re-enters


def lock_dir() -> Path:
    value = os.environ.get("AMOKPI_LOCK_DIR")
    if value:
        return Path(value)
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "amokpi" / "locks"


def account_key(base_url: str) -> str:
    """The account's address as a name: one dlt pipeline, one lock per account."""
    host = (urlsplit(base_url).netloc or base_url).lower()
    return re.sub(r"[^a-z0-9]+", "_", host).strip("_")


def account_lock_path(base_url: str) -> Path:
    return lock_dir() / f"account-{account_key(base_url)}.lock"


def warehouse_lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}.lock")


def _holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        data = {}
    if not data.get("pid"):
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(data.get("since", 0)))
    return f"PID {data['pid']} (`{data.get('command', '?')}`, since {since})"


@contextmanager
def hold(path: Path, what: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the lock at `path` for the block; wait up to `wait_seconds` for it, then refuse."""
    path = path.resolve()
    if path in _held:  # flock is per open file: taking it again here would wait for ourselves
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, wait_seconds)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    waited = f" after waiting {wait_seconds:g} s" if wait_seconds > 0 else ""
                    raise LockBusy(f"{what} is in use by {_holder(fd)}{waited}; let it finish, "
                                   "or pass --wait SECONDS to wait for it") from None
                time.sleep(0.2)
        me = {"pid": os.getpid(), "command": " ".join(["amokpi", *sys.argv[1:]])[:200], "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        _held[path] = 1
        try:
            yield
        finally:
            del _held[path]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
