"""The two yardsticks `make bench` sets the ingest against, each reading the same pages of a demo API:

- `bare`: a bare `requests` session and `json.loads` of every page, one after another (what fetching and
  parsing alone cost; nothing checked, nothing written);
- `dlt`: dlt's `rest_api` source with its defaults (its page-number paginator, which stops at an empty page or
  a 204; the default file formats) into a fresh DuckDB file.

`python bench/ingest_baselines.py bare|dlt BASE_URL TOKEN [WORKDIR]` prints one JSON line:
{"records": N, "pages": P, "seconds": S} (seconds exclude interpreter start and imports, as the ingest's own
figure does). The listings are the connector's (ingestion.amocrm): same paths, filters, order and page sizes,
read by page number to their end instead of by keyset/windows, so the records are the same (not by
`_links.next`: the demo API's links keep one value of a repeated filter).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from ingestion.amocrm.settings import CALL_NOTE_TYPES, CARDS, EVENT_TYPES, EVENTS_PAGE_LIMIT, PAGE_LIMIT

MAX_PAGES = 20_000  # per listing: a bound, as the connector has

# (name, path, records key, query)
LISTINGS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("users", "/api/v4/users", "users", {"with": "role,group", "limit": PAGE_LIMIT}),
    ("loss_reasons", "/api/v4/leads/loss_reasons", "loss_reasons", {"limit": PAGE_LIMIT}),
    *((f"custom_fields_{c}", f"/api/v4/{c}/custom_fields", "custom_fields", {"limit": PAGE_LIMIT}) for c in CARDS),
    ("leads", "/api/v4/leads", "leads", {"with": "contacts,loss_reason", "order[updated_at]": "asc",
                                         "limit": PAGE_LIMIT}),
    ("deleted_leads", "/api/v4/leads", "leads", {"with": "only_deleted", "order[updated_at]": "asc",
                                                 "limit": PAGE_LIMIT}),
    ("contacts", "/api/v4/contacts", "contacts", {"with": "companies", "order[updated_at]": "asc",
                                                  "limit": PAGE_LIMIT}),
    ("companies", "/api/v4/companies", "companies", {"order[updated_at]": "asc", "limit": PAGE_LIMIT}),
    *((f"{c}_notes", f"/api/v4/{c}/notes", "notes", {"filter[note_type][]": CALL_NOTE_TYPES,
                                                     "order[updated_at]": "asc", "limit": PAGE_LIMIT})
      for c in CARDS),
    ("tasks", "/api/v4/tasks", "tasks", {"filter[updated_at][from]": 0, "limit": PAGE_LIMIT}),
    ("events", "/api/v4/events", "events", {"filter[type]": ",".join(EVENT_TYPES), "limit": EVENTS_PAGE_LIMIT}),
]


def bare(base_url: str, token: str) -> dict[str, float]:
    import requests

    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/hal+json"})
    records = pages = 0
    started = time.monotonic()
    for _, path, key, query in LISTINGS:
        for number in range(1, MAX_PAGES + 1):
            response = session.get(base_url + path, params={**query, "page": number}, timeout=60)
            response.raise_for_status()
            pages += 1
            if response.status_code == 204:
                break
            body = json.loads(response.content)
            records += len((body.get("_embedded") or {}).get(key) or [])
            if not (body.get("_links") or {}).get("next"):
                break
    return {"records": records, "pages": pages, "seconds": time.monotonic() - started}


def dlt_defaults(base_url: str, token: str, work: Path) -> dict[str, float]:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source({
        "client": {"base_url": base_url, "auth": {"type": "bearer", "token": token},
                   "paginator": {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": None}},
        "resource_defaults": {"endpoint": {"response_actions": [{"status_code": 204, "action": "ignore"}]}},
        "resources": [{"name": name, "endpoint": {"path": path.lstrip("/"), "params": query,
                                                  "data_selector": f"_embedded.{key}"}}
                      for name, path, key, query in LISTINGS],
    })
    pipeline = dlt.pipeline(pipeline_name="dlt_defaults", pipelines_dir=str(work / "dlt"),
                            destination=dlt.destinations.duckdb(str(work / "dlt_defaults.duckdb")),
                            dataset_name="raw")
    started = time.monotonic()
    pipeline.run(source)
    seconds = time.monotonic() - started
    rows = pipeline.last_trace.last_normalize_info.row_counts
    records = sum(n for table, n in rows.items() if not table.startswith("_dlt") and "__" not in table)
    return {"records": records, "pages": 0, "seconds": seconds}


def main() -> int:
    kind, base_url, token = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]
    if kind == "bare":
        figures = bare(base_url, token)
    else:
        figures = dlt_defaults(base_url, token, Path(sys.argv[4]))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
