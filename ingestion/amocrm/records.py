"""Record checks: a record that breaks its entity's basic contract is kept aside, never dropped.

amoCRM data is mostly clean, but integrations write odd things (a price as text, a missing
timestamp). Such a record goes to `raw_amocrm.quarantine` with the problem named, so the good
records of the same page still load and the bad one stays visible for inspection.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

_INT = "integer"
_STR = "string"
_INT_OR_NULL = "integer or null"

REQUIRED_FIELDS: dict[str, dict[str, str]] = {
    "leads": {"id": _INT, "created_at": _INT, "updated_at": _INT, "pipeline_id": _INT, "status_id": _INT,
              "price": _INT_OR_NULL, "responsible_user_id": _INT},
    # a deleted lead comes trimmed to id, updated_at, updated_by and is_deleted: that is complete
    "deleted_leads": {"id": _INT, "updated_at": _INT},
    "contacts": {"id": _INT, "created_at": _INT, "updated_at": _INT},
    "companies": {"id": _INT, "created_at": _INT, "updated_at": _INT},
    "tasks": {"id": _INT, "created_at": _INT, "updated_at": _INT, "task_type_id": _INT, "responsible_user_id": _INT},
    "notes": {"id": _INT, "entity_id": _INT, "created_at": _INT, "updated_at": _INT, "note_type": _STR},
    "events": {"id": _STR, "created_at": _INT, "type": _STR},
}


def _fits(value: Any, kind: str) -> bool:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if kind == _INT:
        return is_int
    if kind == _INT_OR_NULL:
        return value is None or is_int
    return isinstance(value, str) and value != ""


_MISSING = object()
# per entity: the required fields by kind, for the quick pass every record takes
_QUICK: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    entity: tuple(tuple(n for n, k in fields.items() if k == kind) for kind in (_INT, _INT_OR_NULL, _STR))  # type: ignore[misc]
    for entity, fields in REQUIRED_FIELDS.items()
}


def _quick_ok(record: dict, entity: str) -> bool:
    """The same verdict as the full check for a record that passes (exact types: what json.loads builds)."""
    ints, ints_or_null, texts = _QUICK[entity]
    get = record.get
    for name in ints:
        if type(get(name)) is not int:
            return False
    for name in ints_or_null:
        value = get(name, _MISSING)
        if value is not None and type(value) is not int:
            return False
    for name in texts:
        value = get(name)
        if type(value) is not str or not value:
            return False
    return True


def problems(entity: str, record: Any) -> list[str]:
    """What is wrong with a record, in words; empty when it may load."""
    if type(record) is dict and entity in _QUICK and _quick_ok(record, entity):
        return []
    if not isinstance(record, dict):
        return [f"record is a {type(record).__name__}, not an object"]
    found = []
    for name, kind in REQUIRED_FIELDS.get(entity, {}).items():
        if name not in record:
            found.append(f"missing {name}")
        elif not _fits(record[name], kind):
            found.append(f"{name} is {record[name]!r}, expected {kind}")
    return found


def quarantine_row(entity: str, payload: Any, problem: str, source_url: str, account_id: int | None) -> dict:
    """One row of raw_amocrm.quarantine; keyed by content so a re-run does not add it twice."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, sort_keys=True)
    record_id = payload.get("id") if isinstance(payload, dict) else None
    return {
        "payload_hash": hashlib.sha256(f"{entity}\n{text}".encode()).hexdigest(),
        "entity": entity,
        "record_id": None if record_id is None else str(record_id),
        "problem": problem,
        "payload": text,
        "source_url": source_url,
        "account_id": account_id,
        "quarantined_at": int(time.time()),
    }
