"""Records kept as columns (numpy arrays) and turned into amoCRM dicts only for the page being served.

A `Table` holds one entity of the scalable demo account: a few bytes per record instead of the
~1-2 KB a Python dict costs, so a million leads with their events, notes and tasks fit in memory.
The demo API selects rows on the columns (a boolean mask, then one sort), caches the ordered row
numbers per query, and builds dicts for the `limit` rows of a page: a page costs the same whatever
the size of the account. `touched` counts the dicts built, so a test can check a page's work.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator

import numpy as np

Build = Callable[["Table", int], dict]


class Columns:
    """Growable typed columns for a generator to append to (array.array: compact, amortised appends)."""

    def __init__(self, spec: dict[str, str]) -> None:
        self.spec = spec
        self.data = {name: array(code) for name, code in spec.items()}

    def freeze(self) -> dict[str, np.ndarray]:
        """The columns as numpy arrays; each buffer is freed as soon as it is copied (peak: one column twice)."""
        out = {}
        for name, code in self.spec.items():
            out[name] = np.array(self.data.pop(name), dtype=code)
            self.data[name] = array(code)
        return out


class Table:
    """One entity as columns; `build(table, row)` makes the amoCRM record of a row."""

    def __init__(self, name: str, columns: dict[str, np.ndarray], build: Build) -> None:
        self.name, self.cols, self._build = name, columns, build
        self.touched = 0  # records built (pages served, single records looked up)

    def __len__(self) -> int:
        return len(self.cols["id"])

    def __iter__(self) -> Iterator[dict]:
        """Every record, built one at a time (for tests and small accounts; the API never iterates)."""
        for row in range(len(self)):
            yield self._build(self, row)

    def record(self, row: int) -> dict:
        self.touched += 1
        return self._build(self, row)

    def records(self, rows: np.ndarray) -> list[dict]:
        self.touched += len(rows)
        return [self._build(self, int(row)) for row in rows]

    def row_of(self, column: str, value: int) -> int | None:
        """The row holding `value` in `column` (a linear scan in C: single-record routes only)."""
        found = np.flatnonzero(self.cols[column] == value)
        return int(found[0]) if len(found) else None

    def extend(self, new: dict[str, np.ndarray]) -> None:
        """Append rows (a change round's new records); every column must be given."""
        self.cols = {name: np.concatenate([values, np.asarray(new[name], dtype=values.dtype)])
                     for name, values in self.cols.items()}

    def nbytes(self) -> int:
        return sum(values.nbytes for values in self.cols.values())


class Rows:
    """Selected rows of a table in serving order; slicing builds only the records sliced."""

    def __init__(self, table: Table, rows: np.ndarray) -> None:
        self.table, self.rows = table, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, part: slice) -> list[dict]:
        return self.table.records(self.rows[part])


class Ordered:
    """Rows chosen by a mask, ordered by (field, tie) ascending or both descending, with the signed
    sort keys for range look-ups by bisection (the same contract as the list API's `_Selection`)."""

    def __init__(self, table: Table, mask: np.ndarray | None, field: str, descending: bool,
                 tie: str = "id") -> None:
        rows = (np.flatnonzero(mask) if mask is not None else np.arange(len(table))).astype(np.int32)
        values = table.cols[field][rows].astype(np.int64)
        order = np.lexsort((table.cols[tie][rows], values))
        if descending:
            order = order[::-1]
        self.table, self.rows, self.descending = table, rows[order], descending
        self.keys = -values[order] if descending else values[order]

    def within(self, bounds: tuple[int | None, int | None]) -> Rows:
        lo, hi = bounds
        if self.descending:
            lo, hi = (None if hi is None else -hi), (None if lo is None else -lo)
        first = int(np.searchsorted(self.keys, lo, "left")) if lo is not None else 0
        last = int(np.searchsorted(self.keys, hi, "right")) if hi is not None else len(self.keys)
        return Rows(self.table, self.rows[first:last])

    def all(self) -> Rows:
        return Rows(self.table, self.rows)
