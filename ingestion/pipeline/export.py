"""`amokpi export`: the published marts as files for tools that read files (Superset, Metabase, DataLens,
Excel, pandas), with a manifest of their columns and descriptions.

It reads the BI serving copy, not the warehouse: the same marts BI users query (no raw layer, no raw-record
columns), as of the same publication. DuckDB writes the files (`COPY ... TO`, Parquet or CSV with a header);
`manifest.json` lists each file's table, rows, description and columns (name, type, description: the
comments dbt's persist_docs wrote), and when the copy was published and loaded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from amokpi.settings import serving_path

FORMATS = {"parquet": "(format parquet, compression zstd)", "csv": "(format csv, header true)"}


class ExportError(RuntimeError):
    """Nothing to export (no serving copy yet) or a bad target."""


def export(target: Path, fmt: str = "parquet", serving: Path | None = None) -> Path:
    """Write every mart of the serving copy into `target` as `<mart>.<fmt>`; return the manifest's path."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    serving = serving or serving_path()
    if not serving.is_file():
        raise ExportError(f"no serving copy at {serving}: run `amokpi run` (or `amokpi publish`) first")
    target.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(serving), read_only=True) as con:
        # views too: mart_manager_kpi_ranges is computed when read, so its file holds every range of months
        tables = con.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'marts' union all"
            " select view_name, comment from duckdb_views() where schema_name = 'marts' and not internal"
            " order by 1"
        ).fetchall()
        listed = []
        for name, comment in tables:
            path = target / f"{name}.{fmt}"
            partial = path.with_name(f".{path.name}.partial")  # a reader never sees half a file
            con.execute(f"copy marts.\"{name}\" to '{_quoted_path(partial)}' {FORMATS[fmt]}")
            os.replace(partial, path)
            columns = con.execute(
                "select column_name, data_type, comment from duckdb_columns() where schema_name = 'marts'"
                " and table_name = ? order by column_index", [name]).fetchall()
            (rows,) = con.execute(f'select count(*) from marts."{name}"').fetchone()
            listed.append({"table": f"marts.{name}", "file": path.name, "rows": rows, "description": comment,
                           "columns": [{"name": c, "type": t, "description": d} for c, t, d in columns]})
        published = con.execute("select published_at, last_loaded_at from meta.publication").fetchone()
    manifest = target / "manifest.json"
    manifest.write_text(json.dumps({
        "format": fmt, "source": str(serving),
        "published_at": None if published[0] is None else published[0].isoformat(),
        "last_loaded_at": None if published[1] is None else published[1].isoformat(),
        "tables": listed,
    }, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def _quoted_path(path: Path) -> str:
    return str(path).replace("'", "''")  # COPY takes no bound parameter for its file name
