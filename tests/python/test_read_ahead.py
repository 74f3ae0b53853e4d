"""Reading a resource ahead of dlt (ingestion.amocrm.prefetch) and the depth bound on a parsed page:
what the lean ingest changed that the end-to-end loads would not show."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from ingestion.amocrm.client import _DEEP, MAX_JSON_DEPTH, _shape
from ingestion.amocrm.errors import AmoCrmError
from ingestion.amocrm.prefetch import prefetched


def test_read_ahead_hands_on_every_item_in_order_then_the_error() -> None:
    def pages() -> Iterator[int]:
        yield from range(5)
        raise AmoCrmError("page 6 unreadable")

    got = []
    with pytest.raises(AmoCrmError, match="page 6"):
        for item in prefetched(pages(), "test", depth=2):
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_read_ahead_stays_within_its_depth_and_stops_with_its_reader() -> None:
    read, closed = [], threading.Event()

    def endless() -> Iterator[int]:
        try:
            for number in range(10**9):
                read.append(number)
                yield number
        finally:
            closed.set()

    items = prefetched(endless(), "bounded", depth=2)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    # whenever we look: at most `depth` items queued and one in the reader's hand beyond what was taken
    assert len(read) <= 3 + 2 + 1
    items.close()  # as dlt does when it stops early
    assert closed.is_set()
    assert not [t for t in threading.enumerate() if t.name == "amocrm-read-bounded"]


def nested(levels: int) -> object:
    value: object = 1
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


def test_a_page_nested_one_level_past_the_bound_is_refused_and_one_at_it_is_not() -> None:
    assert _shape(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH) != _DEEP
    assert _shape(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH) == _DEEP
    assert _shape({"_embedded": {"tasks": [nested(MAX_JSON_DEPTH)]}}, MAX_JSON_DEPTH) == _DEEP
    assert _shape("scalar", 0) != _DEEP
