"""A page's JSON parses exactly as the standard library's json.loads parses it, though the client reads it with
orjson (ingestion/amocrm/client.py `_loads`): the odd values orjson would read differently or refuse take the
standard library's path, and broken text fails the same way."""

from __future__ import annotations

import json

import pytest

from ingestion.amocrm.client import _loads

SAME_VALUE = [
    b'{"_embedded": {"leads": [{"id": 1, "price": 1500.5, "name": "\\u0421\\u0434\\u0435\\u043b\\u043a\\u0430"}]}}',
    b'{"a": 1, "a": 2}',  # the last of a repeated key wins
    b'[18446744073709551616, -9223372036854775809, 123456789012345678901234567890]',  # past 64 bits: exact ints
    b'[9223372036854775807, -9223372036854775808, 18446744073709551615]',
    b'[1e400, -1e400, 0.1e-320, -0.0, 2.5E-3]',
    b'[NaN, Infinity, -Infinity]',
    b'"\\ud800"',  # a lone surrogate
    b'  {"t": true, "f": false, "n": null, "s": "\xd0\xb6"}  ',
    b'{"deep": [[[{"wide": 18446744073709551616}]]], "fine": 1.5}',  # past 64 bits, below the top level
]


@pytest.mark.parametrize("text", SAME_VALUE)
def test_a_page_parses_to_what_json_loads_gives(text: bytes) -> None:
    assert repr(_loads(text)[0]) == repr(json.loads(text))


@pytest.mark.parametrize("text", [b'{"a": ', b"", b"[1,]", b"\xff", b"[" * 5000 + b"]" * 5000])
def test_broken_or_absurd_text_fails_as_json_loads_fails(text: bytes) -> None:
    with pytest.raises((ValueError, RecursionError)) as ours:
        _loads(text)
    with pytest.raises((ValueError, RecursionError)) as theirs:
        json.loads(text)
    assert type(ours.value) is type(theirs.value)
