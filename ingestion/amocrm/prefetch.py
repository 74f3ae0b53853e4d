"""Reading a resource ahead of dlt: its pages are fetched, parsed and checked in a thread of their own,
at most `depth` items ahead, while dlt writes the ones before them.

A resource's generator runs whole in that thread, in order; the consumer hands on exactly what it
yielded, in the same order, and then its error, if any, so what a resource yields before failing
still loads and its cursor stays where it was (the same as reading it in line). Memory is bounded by
`depth` items per resource. When dlt stops early, the reader stops after the item in hand (each
request is bounded by its deadline) and the generator is closed in its own thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from queue import Empty, Full, Queue
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()
_POLL_SECONDS = 0.1  # how soon a reader notices that nobody takes its items any more


def prefetched(items: Iterator[T], name: str, depth: int = 2) -> Iterator[T]:
    """`items`, read in a thread named for the resource, `depth` items ahead."""
    handed: Queue[tuple[Any, BaseException | None]] = Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():  # ends when the consumer takes the entry or goes away
            try:
                handed.put(entry, timeout=_POLL_SECONDS)
                return True
            except Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not offer((item, None)):
                    return
            offer((_DONE, None))
        except BaseException as error:  # handed to the consumer, raised there in order
            offer((_DONE, error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name=f"amocrm-read-{name}", daemon=True)
    reader.start()
    try:
        while True:
            try:
                item, error = handed.get(timeout=_POLL_SECONDS)
            except Empty:
                if not reader.is_alive() and handed.empty():
                    return  # the reader ended without a word (it cannot, but never wait for it forever)
                continue
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        reader.join()
