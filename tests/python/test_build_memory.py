"""The dbt build's DuckDB memory bound: AMOKPI_DUCKDB_MEMORY_LIMIT reaches the connection dbt builds with
(dbt_project/profiles.yml `settings:`), and without it the build is bounded by the documented default.

(slow, make bench: a dbt process parses the whole project, ~15 s.) A memory-bounded full build equal to an
unbounded one is measured at 100k and 1M leads in DECISIONLOG ("Build memory at a million leads").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.pipeline import runner

DBT = str(Path(sys.executable).with_name("dbt"))


def _memory_limit(tmp_path: Path, value: str | None) -> str:
    env = {**os.environ, "AMOKPI_WAREHOUSE": str(tmp_path / "warehouse.duckdb"), "AMOKPI_TARGET": "duckdb"}
    env.pop("AMOKPI_DUCKDB_MEMORY_LIMIT", None)
    if value is not None:
        env["AMOKPI_DUCKDB_MEMORY_LIMIT"] = value
    shown = subprocess.run(
        [DBT, "show", "--inline", "select current_setting('memory_limit') as memory_limit", "--output", "json",
         "--log-format", "text", "--project-dir", str(runner.PROJECT_ROOT),
         "--profiles-dir", str(runner.DBT_PROFILES_DIR), "--target-path", str(tmp_path / "target")],
        env=env, cwd=runner.PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stdout[-3000:] + shown.stderr[-3000:]
    return shown.stdout


@pytest.mark.slow
def test_the_build_connection_takes_the_memory_limit_from_the_environment(tmp_path: Path) -> None:
    assert '"memory_limit": "286.1 MiB"' in _memory_limit(tmp_path, "300MB")  # DuckDB reports MiB
    assert '"memory_limit": "2.7 GiB"' in _memory_limit(tmp_path, None)  # the default, 3GB
