"""The large tables' good records handed to dlt as Arrow tables, many pages at a time, typed exactly as
dlt's relational normalizer would type them, so the raw tables are the same and dlt skips its per-row
normalizer (DECISIONLOG 2026-12-02, ingest rate).

What the normalizer does for these tables, done here: columns in the raw contract's order (hinted
columns first, then columns dlt would infer, then `_dlt_load_id` and `_dlt_id`), `params` flattened
into `params__*`, an integer in a text column written as its digits, JSON columns as dlt's JSON text.
Anything else (a key the contract does not know, a value of another type that dlt would coerce or
put in a variant column, a list dlt would make a child table of, dlt's typed-JSON marker characters)
and the batch goes to dlt as dicts, as before: `ArrowRows.build` answers None.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from itertools import repeat
from typing import Any

import dlt
import pandas  # noqa: F401  (pyarrow imports it on its first conversion: here, not racing dlt's threads)
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.json import PUA_START
from dlt.common.json import json as dlt_json
from dlt.common.normalizers.utils import generate_dlt_ids

from ingestion.amocrm.raw_schema import RAW_COLUMNS

# tables read in thousands of records a run; the small ones stay dicts
ARROW_TABLES = frozenset({"leads", "contacts", "companies", "notes", "tasks", "events"})
# columns not in the raw contract that amoCRM sends and dlt infers (name -> type); staging reads none of them
INFERRED: dict[str, dict[str, str]] = {"notes": {"is_needs_to_be_deleted": "bool"}}
# objects dlt flattens into `parent__child` columns (their children are hinted)
FLATTENED: dict[str, tuple[str, ...]] = {"notes": ("params",)}
BATCH_RECORDS = 20_000  # dlt's cost is per Arrow item: ~80 pages of 250 an item (held as Arrow, a few MB)
BUILD_RECORDS = 2_000  # typing has a cost per call too: pages are typed ~8 at a time

_ARROW = {"bigint": pa.int64(), "text": pa.string(), "json": pa.string(), "bool": pa.bool_()}
_TYPES: dict[str, frozenset[type]] = {"bigint": frozenset({int, type(None)}), "bool": frozenset({bool, type(None)}),
                                      "text": frozenset({str, int, type(None)}),
                                      "json": frozenset({dict, list, type(None)})}
# dlt's typed JSON (its intermediate files) decodes strings starting with these characters
_MARKERS = f"[{re.escape(chr(PUA_START))}-{re.escape(chr(PUA_START + 15))}]"
_MARKER_LEAD = chr(PUA_START).encode()[:1]
assert all(chr(c).encode().startswith(_MARKER_LEAD) for c in range(PUA_START, PUA_START + 16))


def _has_marker(array: pa.StringArray) -> bool:
    """Whether a string holds one of dlt's marker characters. Their UTF-8 bytes all start with EF (the lead
    byte of U+F000-U+FFFF only, which text seldom holds): the column's bytes are searched for it first (one
    memchr, ~50× cheaper than the regular expression, which was ~5 % of the ingest's CPU) and only a
    column holding it is matched exactly."""
    data = array.buffers()[2]
    if data is None or _MARKER_LEAD not in data.to_pybytes():
        return False
    return bool(pc.any(pc.match_substring_regex(array, _MARKERS)).as_py())


class _JsonAsText(logging.Filter):
    """dlt warns, for every Arrow item, that a JSON-hinted column came as an Arrow string and the hint
    wins: that is what we mean (dlt writes JSON columns as that text itself), so not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        return not (message.startswith("In resource: ") and "when merging arrow schema with dlt schema" in message)


_JSON_AS_TEXT = _JsonAsText()


class ArrowRows:
    """Builds one table's Arrow batches; `seen_dicts` once a batch of this run went as dicts."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.hinted = RAW_COLUMNS[table]
        self.inferred = INFERRED.get(table, {})
        self.children = {parent: {c[len(parent) + 2:]: c for c in self.hinted if c.startswith(f"{parent}__")}
                         for parent in FLATTENED.get(table, ())}
        flat = {c for kids in self.children.values() for c in kids.values()}
        self.known = frozenset((set(self.hinted) - flat) | set(self.inferred) | set(self.children))
        self.seen_dicts = False

    def build(self, records: list[dict], load_id: str) -> pa.Table | None:
        """The records as dlt's normalizer would write them, or None if that cannot be promised."""
        known = self.known
        if not records or not all(record.keys() <= known for record in records):
            return None
        values: dict[str, list[Any]] = {}
        for parent, kids in self.children.items():
            objects = [record.get(parent) for record in records]
            if not {type(o) for o in objects} <= {dict, type(None)}:
                return None
            if not all(o.keys() <= kids.keys() for o in objects if o):
                return None
            for key, column in kids.items():
                values[column] = [o.get(key) if o else None for o in objects]
        arrays: list[pa.Array] = []
        names: list[str] = []
        try:
            for column, dtype in self.hinted.items():
                column_values = values[column] if column in values else list(map(dict.get, records, repeat(column)))
                arrays.append(self._array(column_values, dtype))
                names.append(column)
            first = records[0]
            for column in (k for k in first if k in self.inferred and first[k] is not None):  # as dlt meets them
                arrays.append(self._array([record.get(column) for record in records], self.inferred[column]))
                names.append(column)
        except (ValueError, TypeError, OverflowError, pa.ArrowException):
            return None
        for column in self.inferred:
            # dlt adds an inferred column where a row first has a value: only if that is the first row
            # (or the column came before) do both paths order it alike
            if column not in names and any(record.get(column) is not None for record in records):
                return None
            if column in names and self.seen_dicts:
                return None
        for array in arrays:
            if pa.types.is_string(array.type) and _has_marker(array):
                return None
        arrays += [pa.array([load_id] * len(records), pa.string()), pa.array(generate_dlt_ids(len(records)))]
        names += ["_dlt_load_id", "_dlt_id"]
        return pa.Table.from_arrays(arrays, names=names)

    @staticmethod
    def _array(column_values: list[Any], dtype: str) -> pa.Array:
        found = set(map(type, column_values))
        if not found <= _TYPES[dtype]:
            raise TypeError(dtype)
        if dtype == "text" and int in found:
            column_values = [v if v is None or type(v) is str else str(v) for v in column_values]
        elif dtype == "json":
            dumps = dlt_json.dumps
            if type(None) in found:
                column_values = [None if v is None else dumps(v) for v in column_values]
            else:
                column_values = list(map(dumps, column_values))
        return pa.array(column_values, _ARROW[dtype])


class Batches:
    """A resource's good-record pages as Arrow tables, handed to dlt ~BATCH_RECORDS records at a time
    (dlt's cost is per item). Pages are typed a few at a time (~BUILD_RECORDS records: building has a
    cost per call), so only that many records are held as dicts, the rest as Arrow. Records that cannot
    be typed go as dicts, after the tables before them; every other item (quarantine rows) passes
    through in order too."""

    def __init__(self, table: str, build_records: int = BUILD_RECORDS) -> None:
        self.rows = ArrowRows(table)
        self.build_records = build_records
        self.pending: list[dict] = []
        self.held: list[pa.Table] = []
        self.count = 0
        self.load_id: str | None = None
        logging.getLogger("dlt").addFilter(_JSON_AS_TEXT)  # once: a logger keeps one of each filter

    def take(self, item: Any) -> Iterator[Any]:
        if type(item) is not list:
            yield from self.flush()
            yield item
            return
        self.pending.extend(item)
        if len(self.pending) >= self.build_records:
            yield from self._typed()

    def _typed(self) -> Iterator[Any]:
        records, self.pending = self.pending, []
        if not records:
            return
        if self.load_id is None:  # the load package dlt is extracting into; its id goes in every row
            self.load_id = dlt.current.load_package_state()["load_id"]
        table = self.rows.build(records, self.load_id)
        if table is None:
            self.rows.seen_dicts = True
            yield from self._handed()
            yield records
            return
        if self.held and table.schema != self.held[0].schema:
            yield from self._handed()
        self.held.append(table)
        self.count += table.num_rows
        if self.count >= BATCH_RECORDS:
            yield from self._handed()

    def _handed(self) -> Iterator[Any]:
        if self.held:
            held, self.held, self.count = self.held, [], 0
            yield pa.concat_tables(held)

    def flush(self) -> Iterator[Any]:
        """Everything taken so far, in order."""
        yield from self._typed()
        yield from self._handed()

    def over(self, items: Iterator[Any], stops: tuple[type[BaseException], ...]) -> Iterator[Any]:
        """`items` batched; what was gathered is handed on before one of `stops` ends the resource."""
        try:
            for item in items:
                yield from self.take(item)
        except stops:
            yield from self.flush()
            raise
        yield from self.flush()
