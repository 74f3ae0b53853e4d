"""dbt's artifacts as an analyst's own `dbt build` leaves them in target/, for `amokpi publish` tests."""

from __future__ import annotations

import json
from pathlib import Path


def analyst_build_results(target: Path, failing: bool) -> None:
    """The artifacts an analyst's `dbt build` leaves in target/: one mart test, failed or passed."""
    target.mkdir(parents=True, exist_ok=True)
    uid = "test.amokpi.unique_mart_x_id.1"
    (target / "manifest.json").write_text(json.dumps({"nodes": {
        uid: {"name": "unique_mart_x_id", "column_name": "id", "config": {"severity": "ERROR"},
              "attached_node": "model.amokpi.mart_x", "resource_type": "test"},
        "model.amokpi.mart_x": {"name": "mart_x", "schema": "marts", "alias": "mart_x", "resource_type": "model"},
    }, "unit_tests": {}, "sources": {}}))
    (target / "run_results.json").write_text(json.dumps({"args": {"which": "build"}, "results": [
        {"unique_id": uid, "status": "fail" if failing else "pass", "failures": 2 if failing else 0,
         "message": "Got 2 results, configured to fail if != 0" if failing else None}]}))
