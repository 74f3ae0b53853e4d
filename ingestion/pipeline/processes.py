"""Child processes (dbt, Streamlit) that end with their parent.

A child started with plain `subprocess.run` outlives a parent killed with SIGTERM: `kill <pid of
amokpi run>` used to leave `dbt build` running and holding the warehouse's lock, and a stopped
`amokpi report` left Streamlit serving. So each child runs in its own process group (its whole
tree can be signalled at once, and a terminal's Ctrl+C reaches it only through us), SIGTERM,
SIGINT and SIGHUP to the parent are passed on to that group, and on Linux the kernel sends the
child SIGTERM if the parent dies without a chance to pass anything on (SIGKILL).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GRACE_SECONDS = 15.0  # how long a signalled child may take to stop before it is killed


class Interrupted(RuntimeError):
    """We were told to stop (a signal) and stopped our child first."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def _resolve_prctl() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# resolved here, not in the child: loading a library between fork and exec can deadlock
_PRCTL = _resolve_prctl()
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)  # type: ignore[operator]


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:
        pass


def start_child(cmd: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None,
                stdin: int | None = None) -> subprocess.Popen:
    """Start `cmd` in its own process group, ended by the kernel if we die; `wait_child` waits for it."""
    return subprocess.Popen(list(cmd), env=dict(env) if env is not None else None, cwd=cwd, stdin=stdin,
                            start_new_session=True, preexec_fn=_die_with_parent)


def run_child(cmd: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> int:
    """Run `cmd` to its end and return its exit code; if we are signalled meanwhile, pass the signal
    on, wait (bounded) for the child to stop, and raise Interrupted."""
    return wait_child(start_child(cmd, env, cwd))


def wait_child(child: subprocess.Popen) -> int:
    """Wait for a started child to end and return its exit code; if we are signalled meanwhile, pass the
    signal on, wait (bounded) for the child to stop, and raise Interrupted."""
    received: list[int] = []

    def forward(signum: int, frame: object) -> None:
        received.append(signum)
        _signal_group(child, signum)

    # handlers can only be set from the main thread; elsewhere the kernel's death signal still holds
    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, forward) for s in FORWARDED} if main else {}
    try:
        while True:
            try:
                code = child.wait(timeout=GRACE_SECONDS if received else None)
                break
            except subprocess.TimeoutExpired:  # signalled and still running: no more asking
                _signal_group(child, signal.SIGKILL)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if child.poll() is None:  # an exception of ours: never leave the child behind
            stop_child(child)
    if received:
        raise Interrupted(received[0])
    return code


def stop_child(child: subprocess.Popen, signum: int = signal.SIGTERM) -> None:
    """Signal a child's group and wait for it to end (bounded: then it is killed)."""
    if child.poll() is None:
        _signal_group(child, signum)
    try:
        child.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(child, signal.SIGKILL)
        child.wait()
