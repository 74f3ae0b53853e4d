"""Helpers for tests that start servers and processes on loopback: a free port, and a bounded wait."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], object], timeout: float, what: str, interval: float = 0.1) -> object:
    """`check()`'s first truthy value within `timeout` seconds (an OSError counts as not yet);
    TimeoutError naming `what` and the last outcome otherwise."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except OSError as error:
            last = error
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s (last: {last!r})")
