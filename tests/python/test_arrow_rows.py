"""The large tables' records handed to dlt as Arrow tables (`ingestion.amocrm.arrow_rows`) load the same raw
tables as the same records handed as dicts to dlt's own normalizer: columns (names, types, order) and rows,
with pages it cannot type (a variant value, a key the contract does not know, dlt's marker characters)
falling back to dicts in between. Two real dlt pipelines into real DuckDB files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow as pa

from ingestion.amocrm.arrow_rows import ArrowRows, Batches, _has_marker
from ingestion.amocrm.helpers import columns


def _note(i: int, **changes: Any) -> dict:
    note = {"id": i, "entity_id": 100 + i, "created_by": 7, "updated_by": 7, "created_at": 1_700_000_000 + i,
            "updated_at": 1_700_000_000 + i, "responsible_user_id": 7, "group_id": 0, "note_type": "call_in",
            "params": {"uniq": f"call-{i}", "duration": i, "source": "АТС «Облако»", "phone": "+7900",
                       "call_result": "Разговор состоялся", "call_status": 4, "call_responsible": 7},
            "account_id": 1, "is_needs_to_be_deleted": False, "entity_type": "leads"}
    note.update(changes)
    return note


def _event(i: int, **changes: Any) -> dict:
    event = {"id": f"ev{i}", "type": "lead_status_changed", "entity_id": 100 + i, "entity_type": "lead",
             "created_by": 7, "created_at": 1_700_000_000 + i,
             "value_after": [{"lead_status": {"id": 142, "pipeline_id": 3}}], "value_before": [], "account_id": 1}
    event.update(changes)
    return event


NOTES = [
    [_note(1), _note(2, params=None, group_id=None), _note(3, params={"uniq": "x", "call_responsible": "Иван"})],
    [_note(4, group_id="not a number")],  # dlt adds a variant column: this page goes as dicts
    [_note(5), _note(6, is_needs_to_be_deleted=None)],
    [_note(7, new_field=1)],  # a key the contract does not know: dicts, dlt infers the column
    [_note(8), _note(9, params={"uniq": "\uf026 looks like dlt's typed JSON"})],
    [_note(10, params={"uniq": "\ufeff a BOM, \uf000 and \uf036 beside dlt's markers"})],  # typed: Arrow
]
EVENTS = [
    [_event(1), _event(2, value_after=None, value_before={"b": [1, 2.5, "ё", None, True]})],
    [_event(3, value_after=[{"note": {"id": 2**62}}])],
    [_event(4, created_by=True)],  # a bool where dlt wants a bigint: dicts
    [_event(5, value_after=["\uf027 marker inside JSON"])],
]


@dlt.source(name="amocrm", max_table_nesting=2)
def _source(arrow: bool) -> Any:
    def pages(table: str, listing: list[list[dict]]) -> Any:
        batches = Batches(table, build_records=1)  # each page typed on its own
        for page in listing:
            page = [dict(record) for record in page]
            if arrow:
                yield from batches.take(page)
            else:
                yield page
        yield from batches.flush()

    return [dlt.resource(pages("notes", NOTES), name="notes", write_disposition="merge",
                         primary_key=("account_id", "id"), columns=columns("notes", "updated_at")),
            dlt.resource(pages("events", EVENTS), name="events", write_disposition="merge",
                         primary_key=("account_id", "id"), columns=columns("events"))]


def _load(tmp_path: Path, name: str, arrow: bool) -> Path:
    warehouse = tmp_path / f"{name}.duckdb"
    pipeline = dlt.pipeline(f"arrow_rows_{name}", pipelines_dir=str(tmp_path / name),
                            destination=dlt.destinations.duckdb(str(warehouse)), dataset_name="raw_amocrm")
    pipeline.run(_source(arrow), loader_file_format="parquet")
    return warehouse


def test_arrow_batches_load_what_dlts_normalizer_loads(tmp_path: Path) -> None:
    # the pages the test means to go each way do
    assert ArrowRows("notes").build(NOTES[0], "1") is not None
    assert [ArrowRows("notes").build(page, "1") is None for page in NOTES[1:]] == [True, False, True, True, False]
    assert [ArrowRows("events").build(page, "1") is None for page in EVENTS] == [False, False, True, True]
    # after a page went as dicts (whose new columns dlt adds later, in normalize), an Arrow page may not add
    # a column: it would land ahead of them
    after_dicts = ArrowRows("notes")
    after_dicts.seen_dicts = True
    assert after_dicts.build(NOTES[0], "1") is None
    assert after_dicts.build([_note(1, is_needs_to_be_deleted=None)], "1") is not None

    dicts, arrow = _load(tmp_path, "dicts", arrow=False), _load(tmp_path, "arrow", arrow=True)
    with duckdb.connect() as con:
        con.execute(f"attach '{dicts}' as d (read_only)")
        con.execute(f"attach '{arrow}' as a (read_only)")
        for table in ("notes", "events"):
            layout = [con.execute("select column_name, data_type from information_schema.columns where table_catalog = "
                                  f"'{db}' and table_schema = 'raw_amocrm' and table_name = '{table}' "
                                  "order by ordinal_position").fetchall() for db in ("d", "a")]
            assert layout[0] == layout[1]
            names = [n for n, _ in layout[0]]
            assert "group_id__v_text" in names or table == "events"
            kept = ", ".join(f'"{n}"::varchar' for n in names if n not in ("_dlt_id", "_dlt_load_id"))
            for one, other in (("d", "a"), ("a", "d")):
                assert con.execute(f"select {kept} from {one}.raw_amocrm.{table} except all "
                                   f"select {kept} from {other}.raw_amocrm.{table}").fetchall() == []
            # every row has its own _dlt_id and the id of the load it came in
            rows, ids, loaded = con.execute(
                f"select count(*), count(distinct _dlt_id), count(l.load_id) from a.raw_amocrm.{table} t "
                "left join a.raw_amocrm._dlt_loads l on t._dlt_load_id = l.load_id").fetchone()
            assert rows == ids == loaded == sum(map(len, NOTES if table == "notes" else EVENTS))


def test_marker_characters_are_found_in_any_string_and_nothing_else_is() -> None:
    markers = [chr(c) for c in range(0xF026, 0xF036)]
    assert all(_has_marker(pa.array(["plain", f"a{m}b", None])) for m in markers)
    near = ["\ufeffBOM", "\uf000", "\uf025", "\uf036", "\uffff", "Сделка «Ромашка»", "", None]
    assert not _has_marker(pa.array(near))
    assert not _has_marker(pa.array([None, None], pa.string()))
    assert not _has_marker(pa.array(["\uf027 outside the slice", "plain"]).slice(1))  # a slice's own rows only
    assert _has_marker(pa.array(["plain", "\uf027 inside the slice"]).slice(1))
