"""Where things live: the project root (the dbt project), the warehouse and its serving copy."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROFILES_DIR = PROJECT_ROOT / "dbt_project"
STREAMLIT_APP = PROJECT_ROOT / "streamlit_app" / "app.py"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
RAW_DATASET = "raw_amocrm"


def warehouse_path() -> Path:
    """`AMOKPI_WAREHOUSE` (relative paths resolve against the current directory) or data/warehouse.duckdb."""
    value = os.environ.get("AMOKPI_WAREHOUSE")
    return Path(value).resolve() if value else DEFAULT_WAREHOUSE


def serving_path(warehouse: Path | None = None) -> Path:
    """The read-only copy the report opens: `AMOKPI_SERVING` or `<warehouse>.serving.duckdb` beside it."""
    value = os.environ.get("AMOKPI_SERVING")
    if value:
        return Path(value).resolve()
    warehouse = warehouse or warehouse_path()
    return warehouse.with_name(f"{warehouse.stem}.serving.duckdb")
