"""Who sees what in the report: the demo access list (dbt_project/seeds/demo/report_access.csv) through the data
layer, and through the app with a signed-in user.

The data-layer sweep calls every reading function of streamlit_app/data.py as each demo person, with every
team and manager filter a page (or an edited URL) could pass, and checks that no result names, or carries the
id of, a manager the person may not see. The AppTest cases set the identity the way Streamlit's own test
runner does (`AppTest.user`, the dict a run reads as `st.user`, and an `[auth]` section in `AppTest.secrets`):
nothing in the app reads an identity from anywhere but `st.user`, which a real server fills only from its
signed sign-in cookie. The real OpenID Connect round trip is test_report_signin_e2e.py's.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
import streamlit as st
from google.protobuf.message import Message
from streamlit import config
from streamlit.testing.v1 import AppTest

from streamlit_app import data
from streamlit_app.context import next_month, previous_month

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"
ACCESS_SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "demo" / "report_access.csv"
HEAD, LEAD, MANAGER = "head@demo.amokpi.test", "anna.smirnova@demo.amokpi.test", "dmitry.kozlov@demo.amokpi.test"
# what a test may pass for a sign-in configuration: the app reads only that `[auth]` exists
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "test", "client_id": "amokpi",
        "client_secret": "test", "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
# the functions that read no account data (the catalog, the connection) and so take no Access
UNSCOPED = {"access_for", "serving_file", "release", "select", "tables", "check_marts", "has", "has_columns",
            "quality_columns", "has_period", "pipeline_kpi_columns"}


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture()
def serving(demo_warehouse, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AMOKPI_SERVING", str(demo_warehouse.serving))
    monkeypatch.delenv("AMOKPI_REPORT", raising=False)
    return demo_warehouse.serving


def mart(path: Path, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchdf()


def staff(path: Path) -> pd.DataFrame:
    return mart(path, "select account_id, manager_id, manager_name, group_id from marts.dim_managers")


def person(path: Path, email: str) -> pd.Series:
    row = mart(path, "select * from marts.dim_report_access where email = ?", [email])
    assert len(row) == 1, email
    return row.iloc[0]


def visible(path: Path, email: str) -> set[int]:
    """Whom `email` may see, from the seed's meaning (not from data.py): all, their team, or themself."""
    who, people = person(path, email), staff(path)
    if who["access_scope"] == "head":
        return set(people["manager_id"])
    if who["access_scope"] == "team_lead":
        return set(people.loc[people["group_id"] == who["group_id"], "manager_id"])
    return {int(who["user_id"])}


# ---------------------------------------------------------------- the seed and its mart


def test_the_demo_access_list_is_published_and_resolved(serving: Path) -> None:
    seeded = pd.read_csv(ACCESS_SEED)
    published = mart(serving, "select email, user_id, access_scope, group_id, is_user_known"
                              " from marts.dim_report_access order by email")
    assert sorted(published["email"]) == sorted(seeded["email"].str.lower())
    assert published["is_user_known"].all()
    head, lead, manager = (data.access_for(e) for e in (HEAD, LEAD.upper(), f"  {MANAGER} "))
    account = int(seeded["account_id"].iloc[0])
    assert head.grant(account).managers is None and head.is_head
    assert set(lead.grant(account).managers) == visible(serving, LEAD) and not lead.is_head
    assert lead.grant(account).team_id == person(serving, LEAD)["group_id"]
    assert manager.grant(account).managers == (int(person(serving, MANAGER)["user_id"]),)
    assert data.access_for("stranger@example.com").sees_nothing
    assert data.access_for(None).is_open


def test_every_data_function_takes_the_access_first() -> None:
    """A new reading function cannot forget the scope: every one but the catalog's takes `access` first."""
    functions = {name: f for name, f in vars(data).items()
                 if inspect.isfunction(f) and f.__module__ == data.__name__ and not name.startswith("_")}
    assert len(functions) > 40
    for name, function in functions.items():
        first = next(iter(inspect.signature(function).parameters), None)
        assert (first == "access") != (name in UNSCOPED), name


# ---------------------------------------------------------------- the data-layer sweep


def arguments(path: Path, account: int, month: date, teams: list[int | None],
              managers: list[int | None]) -> Iterator[tuple[str, dict[str, object]]]:
    """Each reading function with every value a page or an edited URL could hand it."""
    pipeline = int(mart(path, "select min(pipeline_id) as p from marts.mart_funnel_stages")["p"].iloc[0])
    quarter = (date(month.year, 3 * ((month.month - 1) // 3) + 1, 1), next_month(month) - pd.Timedelta(days=1))
    before = (previous_month(quarter[0]).replace(month=quarter[0].month - 3 if quarter[0].month > 3 else 10,
                                                 year=quarter[0].year - (quarter[0].month <= 3)),
              quarter[0] - pd.Timedelta(days=1))
    # one stage per count of the funnel's lead lists (the scope filter does not depend on the stage)
    stages = mart(path, "select min(status_id) as status_id, kpi_name from marts.fct_funnel_stage_leads"
                        " where month_start = ? group by kpi_name", [month])
    kpis = sorted(mart(path, "select distinct kpi_name from marts.fct_kpi_leads")["kpi_name"])
    reasons = sorted(mart(path, "select distinct loss_reason_id from marts.mart_funnel_loss_reasons")["loss_reason_id"])
    fixed: dict[str, list[object]] = {
        "account_id": [account], "month": [month], "pipeline": [pipeline], "pipeline_id": [pipeline],
        "until": [next_month(month)], "target_month": [next_month(month)], "period_type": ["quarter", "range"],
        "bounds": [quarter], "previous": [before], "wanted": [data.MANAGER_COLUMNS], "kpi_name": kpis,
        "loss_reason_id": reasons, "leads": [True, False], "team": teams,
        "manager": [m for m in managers if m is not None] or [None],
    }
    for name, function in vars(data).items():
        if not inspect.isfunction(function) or function.__module__ != data.__name__ or name.startswith("_") \
                or name in UNSCOPED:
            continue
        wanted = [p for p in inspect.signature(function).parameters if p != "access"]
        combos: list[dict[str, object]] = [{}]
        for parameter in wanted:
            if name == "stage_leads" and parameter in ("status_id", "kpi_name"):
                continue
            options = managers if parameter == "manager" and inspect.signature(function).parameters[
                parameter].default is not inspect.Parameter.empty else fixed[parameter]
            combos = [{**c, parameter: o} for c in combos for o in options]
        if name == "stage_leads":
            combos = [{**c, "status_id": int(s), "kpi_name": k} for c in combos
                      for s, k in stages.itertuples(index=False)]
        for combo in combos:
            yield name, combo


def sweep(path: Path, access: data.Access, account: int, month: date,
          allowed: set[int]) -> tuple[set[str], set[int], set[str]]:
    """Every string cell, every manager id and every function that returned rows, over the whole sweep: with no
    filter, each team, and as manager one the reader may see, one of their team they may not, one of another."""
    people = staff(path).sort_values("manager_id")
    teams = [None, *sorted(int(g) for g in people["group_id"].dropna().unique())]
    mine = people[people["manager_id"].isin(allowed)]
    theirs = people[~people["manager_id"].isin(allowed)]
    picks = [mine["manager_id"].iloc[-1], *theirs[theirs["group_id"].isin(mine["group_id"])]["manager_id"][:1],
             *theirs[~theirs["group_id"].isin(mine["group_id"])]["manager_id"][:1]]
    managers = [None, *(int(m) for m in picks)]
    strings: set[str] = set()
    ids: set[int] = set()
    answered: set[str] = set()
    for name, kwargs in arguments(path, account, month, teams, managers):
        result = getattr(data, name)(access, **kwargs)
        frames = [result] if isinstance(result, pd.DataFrame) else []
        if isinstance(result, list | str):
            strings.update(str(v) for v in ([result] if isinstance(result, str) else result))
        for frame in frames:
            if frame.empty:
                continue
            answered.add(name)
            for column in frame.columns:
                if pd.api.types.is_string_dtype(frame[column]) or frame[column].dtype == object:
                    strings.update(str(v) for v in frame[column].dropna())
                if column == "manager_id":
                    ids.update(int(v) for v in frame[column].dropna())
    return strings, ids, answered


@pytest.mark.parametrize("email", [LEAD, MANAGER])  # a head's scope hides no one: the AppTest case covers it
def test_no_data_function_shows_a_manager_out_of_scope(serving: Path, email: str) -> None:
    account = int(person(serving, email)["account_id"])
    month = previous_month(max(data.months(data.Access.everyone(), account)))  # a complete month: every mart has rows
    allowed = visible(serving, email)
    strings, ids, answered = sweep(serving, data.access_for(email), account, month, allowed)
    people = staff(serving)
    hidden = set(people.loc[~people["manager_id"].isin(allowed), "manager_name"])
    shown = set(people.loc[people["manager_id"].isin(ids), "manager_name"])
    assert ids <= allowed, sorted(ids - allowed)
    assert not {name for name in hidden for s in strings if name in s}, email
    # the sweep bites: the person does see their own managers by name, and the pages' data is there
    assert shown and all(name in strings for name in shown)
    assert {"managers", "manager_kpis", "department_kpis", "funnel", "scorecard", "kpi_leads"} <= answered
    assert hidden, "a scope that hides no one proves nothing"


def test_team_totals_only_of_ones_own_team(serving: Path) -> None:
    account = int(person(serving, MANAGER)["account_id"])
    month = previous_month(max(data.months(data.Access.everyone(), account)))
    own = int(person(serving, MANAGER)["group_id"])
    other = next(int(g) for g in staff(serving)["group_id"].dropna().unique() if int(g) != own)
    pipeline = int(data.pipelines(data.Access.everyone(), account)["pipeline_id"].iloc[0])
    until = next_month(max(data.months(data.Access.everyone(), account)))  # the daily snapshots are recent
    for email in (LEAD, MANAGER, HEAD):
        access = data.access_for(email)
        assert not data.team_kpis(access, account, own).empty
        assert data.team_kpis(access, account, other).empty == (email != HEAD)
        assert data.team_funnel(access, account, pipeline, month, other).empty == (email != HEAD)
        assert data.pipeline_snapshots(access, account, pipeline, until, own).empty is False
        assert data.pipeline_snapshots(access, account, pipeline, until, other).empty == (email != HEAD)
        assert list(data.teams(access, account)["group_id"]) == ([own] if email != HEAD else
                                                                  list(data.teams(access, account)["group_id"]))
        # the department's totals are everyone's who may see the account
        assert not data.department_kpis(access, account).empty
    nobody = data.access_for("stranger@example.com")
    assert data.accounts(nobody).empty and data.department_kpis(nobody, account).empty


# ---------------------------------------------------------------- the app, signed in


def strings_in(message: Message) -> Iterator[str]:
    """Every string a Streamlit element carries, the cells of its tables and charts' data included."""
    for field, value in message.ListFields():
        repeated = field.is_repeated if hasattr(field, "is_repeated") else field.label == field.LABEL_REPEATED
        values = value if repeated else [value]
        for item in values:
            if field.type == field.TYPE_MESSAGE:
                yield from strings_in(item)
            elif field.type == field.TYPE_STRING:
                yield item
            elif field.type == field.TYPE_BYTES and item:
                try:
                    table = pa.ipc.open_stream(item).read_all()
                except (pa.ArrowInvalid, OSError):
                    continue
                yield from (str(c) for c in table.column_names)
                for column in table.columns:
                    yield from (str(v) for v in column.to_pylist() if v is not None)


def everything(at: AppTest) -> list[str]:
    def walk(node: object) -> Iterator[object]:
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    found: list[str] = []
    for node in walk(at._tree):
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            found += strings_in(proto)
    return found


def signed_in(email: str | None, page: str, **query: object) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": email is not None, **({"email": email, "email_verified": True} if email else {})}
    for key, value in query.items():
        at.query_params[key] = str(value)
    at.run()
    if page != "overview":
        at.switch_page(f"report_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", ["manager", "managers", "overview", "alerts"])
def test_a_manager_who_edits_the_url_sees_only_themself(serving: Path, page: str) -> None:
    me = person(serving, MANAGER)
    people = staff(serving)
    other = people[(people["manager_id"] != me["user_id"]) & (people["group_id"] != me["group_id"])].iloc[0]
    at = signed_in(MANAGER, page, manager=int(other["manager_id"]), team=int(other["group_id"]))
    text = "\n".join(everything(at))
    hidden = set(people.loc[people["manager_id"] != me["user_id"], "manager_name"])
    assert not [name for name in hidden if name in text], page
    assert at.sidebar.selectbox(key="manager").options == ["Все", me["user_name"]]
    assert at.sidebar.selectbox(key="team").options == ["Все", me["group_name"]]
    if page == "manager":  # the tampered id fell back to the reader: their own page
        assert any(me["user_name"] in s.value for s in at.main.subheader)
    assert any(b.key == "sign_out" for b in at.sidebar.button)


def test_a_team_lead_and_the_head_see_their_scope(serving: Path) -> None:
    people = staff(serving)
    lead = person(serving, LEAD)
    text = "\n".join(everything(signed_in(LEAD, "managers")))
    team = set(people.loc[people["group_id"] == lead["group_id"], "manager_name"])
    assert all(name in text for name in team)
    assert not [name for name in set(people["manager_name"]) - team if name in text]
    text = "\n".join(everything(signed_in(HEAD, "managers")))
    everyone = set(mart(serving, "select manager_name from marts.mart_manager_kpi_monthly")["manager_name"])
    assert all(name in text for name in everyone)


def test_nobody_signed_in_or_unlisted_sees_no_data(serving: Path) -> None:
    anonymous = signed_in(None, "overview")
    assert [b.key for b in anonymous.main.button] == ["sign_in_default"]
    assert not anonymous.dataframe and not anonymous.metric and not anonymous.sidebar.selectbox
    stranger = signed_in("stranger@example.com", "overview")
    assert "stranger@example.com" in stranger.warning[0].value
    assert not stranger.dataframe and not stranger.metric and not stranger.sidebar.selectbox
    names = set(staff(serving)["manager_name"])
    assert not [n for n in names for s in everything(stranger) + everything(anonymous) if n in s]


def test_the_open_report_refuses_to_serve_beyond_loopback(serving: Path) -> None:
    listening = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")  # what `streamlit run --server.address 0.0.0.0` sets
    try:
        at = AppTest.from_file(str(APP), default_timeout=30).run()
    finally:
        config.set_option("server.address", listening)
    assert "0.0.0.0" in at.error[0].value
    assert not at.dataframe and not at.metric and not at.sidebar.selectbox
    open_report = AppTest.from_file(str(APP), default_timeout=30).run()  # loopback (.streamlit/config.toml)
    assert open_report.dataframe and not open_report.error
