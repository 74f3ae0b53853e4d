"""The report opens the published file once and reuses the connection for every query; a newly
published copy (atomic replace) gets a fresh connection that reads the new file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from streamlit_app import data


def _publish(path: Path, tmp_path: Path, value: int) -> None:
    fresh = tmp_path / f"fresh_{value}.duckdb"
    with duckdb.connect(str(fresh)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.answer as select ? as value", [value])
    fresh.replace(path)  # as publish does: a new inode under the same name


def test_one_connection_per_published_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = tmp_path / "report.duckdb"
    monkeypatch.setenv("AMOKPI_REPORT", str(live))
    _publish(live, tmp_path, 1)
    version = data._version(live)
    first = data._connection(str(live), version)
    assert data._connection(str(live), version) is first  # reused, not reopened per query
    assert data.select("select value from marts.answer")["value"].tolist() == [1]
    assert data._connection(str(live), data._version(live)) is first

    _publish(live, tmp_path, 2)
    assert data.select("select value from marts.answer")["value"].tolist() == [2]  # the new file, at once
    second = data._connection(str(live), data._version(live))
    assert second is not first
    with pytest.raises(duckdb.Error):  # the replaced file's connection was closed, not leaked
        first.execute("select 1")
