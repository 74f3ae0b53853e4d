"""Before a step writes the warehouse: can it? One line that says who holds it or what to fix.

DuckDB allows one read-write process per file; a BI user's `duckdb data/warehouse.duckdb` (the
CLI opens read-write by default) or an analyst's notebook locks out `amokpi run`. dlt, dbt and
GX each report that differently, deep in a traceback; checking first turns it into one `error:`
line naming the holder's PID. A directory the run cannot write is caught the same way.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import duckdb


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be written: locked by another process, or a directory we may not write."""


_LOCK = re.compile(r'Could not set lock on file "(?P<file>[^"]+)": Conflicting lock is held in '
                   r"(?P<program>\S+) \(PID (?P<pid>\d+)\)")


def explain(exc: BaseException, path: Path | None = None) -> str | None:
    """One line for a DuckDB or file-system error about the warehouse, or None if it is not one."""
    text = str(exc)
    found = _LOCK.search(text)
    if found:
        return (f"{found['file']} is open read-write in another process: PID {found['pid']} ({found['program']}); "
                "close it (BI tools and the duckdb shell should open it with -readonly / read_only=True) "
                "or wait for it to finish")
    if isinstance(exc, OSError) and exc.errno is not None:
        return _cannot_write(exc.filename or path or "the warehouse", exc)
    if isinstance(exc, duckdb.Error) and ("Permission denied" in text or "Read-only file system" in text
                                          or "Cannot open file" in text):
        first = text.splitlines()[0] if text else type(exc).__name__
        return (f"cannot open the warehouse {path or ''}: {first}; make its directory writable, or set "
                "AMOKPI_WAREHOUSE to a path that is")
    return None


def _cannot_write(where: object, exc: OSError) -> str:
    return (f"cannot write {where}: {exc.strerror or type(exc).__name__}; make that directory writable for "
            "this user, or set AMOKPI_WAREHOUSE to a path that is")


def check_writable(warehouse: Path) -> None:
    """Raise WarehouseUnavailable (one line) unless this process can create and lock the warehouse."""
    directory = warehouse.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".amokpi-probe-")  # DuckDB writes a WAL beside it
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise WarehouseUnavailable(_cannot_write(directory, exc)) from None
    if warehouse.exists():
        try:
            duckdb.connect(str(warehouse)).close()  # takes (and drops) DuckDB's read-write lock
        except (OSError, duckdb.Error) as exc:
            raise WarehouseUnavailable(explain(exc, warehouse) or f"cannot open {warehouse}: {exc}") from None
