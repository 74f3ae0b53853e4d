"""Pipeline steps: ingest (dlt), build (dbt), validate (Great Expectations), publish (serving copy)."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import dlt
import duckdb

from ingestion.settings import DBT_PROFILES_DIR, PROJECT_ROOT, RAW_DATASET, serving_path, warehouse_path
from ingestion.source import amocrm_source


class StepFailed(RuntimeError):
    """A pipeline step failed; the message says what and where to look."""


@dataclass
class IngestSummary:
    rows: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        total = sum(self.rows.values())
        rate = self.requests / self.seconds if self.seconds else 0.0
        return (f"ingest: {total} rows into {len(self.rows)} tables, {self.requests} requests "
                f"({rate:.1f}/s) in {self.seconds:.1f}s")


def make_pipeline(warehouse: Path) -> dlt.Pipeline:
    # pipeline state lives beside its warehouse, so two warehouses never share an incremental cursor
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name="amokpi_amocrm",
        pipelines_dir=str(warehouse.parent / f".dlt_{warehouse.stem}"),
        destination=dlt.destinations.duckdb(str(warehouse)),
        dataset_name=RAW_DATASET,
        progress="log" if os.environ.get("AMOKPI_PROGRESS") == "log" else None,
    )


def ingest(warehouse: Path | None = None, full_refresh: bool = False, **source_kwargs: object) -> IngestSummary:
    """Load the amoCRM account named by `sources.amocrm.*` config into `raw_amocrm`."""
    warehouse = warehouse or warehouse_path()
    pipeline = make_pipeline(warehouse)
    started = time.monotonic()
    try:
        source = amocrm_source(**source_kwargs)
        pipeline.run(source, loader_file_format="parquet",
                     refresh="drop_sources" if full_refresh else None)
    except Exception as exc:  # dlt wraps resource errors; surface the root cause
        root = exc
        while root.__cause__ is not None or root.__context__ is not None:
            root = root.__cause__ or root.__context__  # type: ignore[assignment]
        raise StepFailed(f"ingest failed: {root}") from exc
    summary = IngestSummary(seconds=time.monotonic() - started)
    normalize = pipeline.last_trace.last_normalize_info if pipeline.last_trace else None
    if normalize is not None:
        summary.rows = {t: n for t, n in normalize.row_counts.items() if not t.startswith("_dlt")}
    adapter = getattr(source.resources["leads"], "requests_adapter", None)
    summary.requests = adapter.requests_sent + 1 if adapter else 0  # +1: the account request
    return summary


def dbt_args(command: str, warehouse: Path, *extra: str) -> list[str]:
    return [command, "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(DBT_PROFILES_DIR), *extra]


def run_dbt(command: str, warehouse: Path | None = None, *extra: str) -> None:
    """Run a dbt command in-process against the warehouse; raise StepFailed on any failure."""
    from dbt.cli.main import dbtRunner

    warehouse = warehouse or warehouse_path()
    os.environ["AMOKPI_WAREHOUSE"] = str(warehouse)
    result = dbtRunner().invoke(dbt_args(command, warehouse, *extra))
    if not result.success:
        detail = result.exception or "see the dbt log above and target/run_results.json"
        raise StepFailed(f"dbt {command} failed: {detail}")


def build(warehouse: Path | None = None) -> None:
    run_dbt("build", warehouse)


def validate(warehouse: Path | None = None) -> None:
    from expectations.runner import run_suites

    report = run_suites(warehouse or warehouse_path())
    print(report.summary())
    if not report.success:
        raise StepFailed("validation failed:\n" + report.failures_text())


def publish(warehouse: Path | None = None) -> Path:
    """Swap in a fresh serving copy atomically, so a running report never sees a half-built file."""
    warehouse = warehouse or warehouse_path()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("checkpoint")
    target = serving_path(warehouse)
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(warehouse, tmp)
    os.replace(tmp, target)
    return target
