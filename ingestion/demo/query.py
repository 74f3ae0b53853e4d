"""amoCRM API v4 query parameters as the demo API reads them: filters, ranges, order, status pairs.

Shared by the list-of-dicts selections (hand-built and default demo accounts) and the columnar ones
(the scalable account), so both read a query the same way."""

from __future__ import annotations

import re

Query = dict[str, list[str]]
EVENT_ENTITIES = {"lead": "lead", "leads": "lead", "contact": "contact", "contacts": "contact",
                  "company": "company", "companies": "company"}


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def as_int(value: str, key: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise Problem(400, "Bad Request", f"{key} must be an integer") from exc


def int_param(query: Query, key: str) -> int | None:
    values = query.get(key)
    if not values or values[0] == "":
        return None
    return as_int(values[0], key)


def values_of(query: Query, name: str) -> list[str]:
    """Every value of a filter given as `name=a,b`, `name[]=a&name[]=b` or `name[0]=a&name[1]=b`."""
    pattern = re.compile(re.escape(name) + r"(\[\d*\])?$")
    out: list[str] = []
    for key, values in query.items():
        if pattern.match(key):
            out += [part for value in values for part in value.split(",") if part != ""]
    return out


def bounds_of(query: Query, field: str) -> tuple[int | None, int | None]:
    """`filter[<field>][from]`/`[to]`; a bare `filter[<field>]=<ts>` means "from ts", and the older
    `filter[<field>]=<from>,<to>` a range, as amoCRM documents them."""
    lo = int_param(query, f"filter[{field}][from]")
    hi = int_param(query, f"filter[{field}][to]")
    bare = (query.get(f"filter[{field}]") or [""])[0]
    if bare and lo is None:
        first, _, second = bare.partition(",")
        lo = as_int(first, f"filter[{field}]")
        if second and hi is None:
            hi = as_int(second, f"filter[{field}]")
    return lo, hi


def in_range(value: int | None, bounds: tuple[int | None, int | None]) -> bool:
    lo, hi = bounds
    value = value or 0
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def order_of(query: Query, allowed: tuple[str, ...]) -> tuple[str, bool] | None:
    """(field, descending) from `order[<field>]=asc|desc`; 400 for a field amoCRM cannot order by."""
    for key, values in query.items():
        match = re.fullmatch(r"order\[(\w+)\]", key)
        if match:
            if match.group(1) not in allowed or values[0] not in ("asc", "desc"):
                raise Problem(400, "Bad Request", f"cannot order by {match.group(1)}={values[0]}")
            return match.group(1), values[0] == "desc"
    return None


def status_filter(query: Query) -> set[tuple[int, int]]:
    """`filter[statuses][N][pipeline_id]=P&filter[statuses][N][status_id]=S` pairs."""
    pairs: dict[str, dict[str, int]] = {}
    for key, values in query.items():
        match = re.fullmatch(r"filter\[statuses\]\[(\d+)\]\[(pipeline_id|status_id)\]", key)
        if match:
            pairs.setdefault(match.group(1), {})[match.group(2)] = as_int(values[0], key)
    return {(p["pipeline_id"], p["status_id"]) for p in pairs.values() if len(p) == 2}
