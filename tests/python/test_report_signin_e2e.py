"""Sign-in end to end: a local OpenID Connect provider (oidc-provider-mock) and the report (`streamlit run` with an
`[auth]` section) on loopback, driven by headless Chromium (test_report_e2e's DevTools client).

One Streamlit server, one browser tab, three people of the demo access list in turn: each clicks «Войти», picks
their account at the provider, comes back signed in (Streamlit's cookie) and sees their scope; the manager then
edits the URL to another manager's id and team and still sees only themself; each signs out.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import pandas as pd
import pytest
from local_processes import free_port, wait_for
from oidc_provider_mock import User
from oidc_provider_mock import app as oidc_app
from test_report_e2e import DevTools, browser, http_get, open_tab  # noqa: F401 (browser: the shared fixture)
from werkzeug.serving import make_server

pytestmark = pytest.mark.slow  # a browser and an OpenID provider: `make test-slow` (CI) and make bench

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app" / "app.py"
HEAD, LEAD, MANAGER = "head@demo.amokpi.test", "anna.smirnova@demo.amokpi.test", "dmitry.kozlov@demo.amokpi.test"
TIMEOUT = 30.0

# The page as a reader has it: the script's state, the page's whole text (the tables' accessible copy and the
# charts' SVG text included: textContent, not innerText), the address and the buttons.
STATE_JS = """
(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const buttons = [...document.querySelectorAll('button')].map(b => b.innerText.trim()).filter(Boolean);
  return JSON.stringify({
    idle: !!app && app.getAttribute('data-test-script-state') === 'notRunning'
          && !document.querySelector('[data-testid="stStatusWidget"]')
          && document.querySelectorAll('[data-testid="stSkeleton"]').length === 0,
    text: document.body.textContent, host: location.host, path: location.pathname, search: location.search,
    buttons, exceptions: [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText)});
})()
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The OpenID Connect provider on a loopback port, with the demo access list's people as its users."""
    people = [User(sub=email, claims={"email": email, "email_verified": True, "name": email})
              for email in (HEAD, LEAD, MANAGER)]
    server = make_server("127.0.0.1", 0, oidc_app(user_claims=people), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def signin_report(demo_warehouse, provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run` of the report with sign-in configured: run from a folder whose .streamlit/ holds the
    project's config.toml and a secrets.toml naming the provider, as a deployment would have it."""
    home = tmp_path_factory.mktemp("signin_report")
    (home / ".streamlit").mkdir()
    shutil.copyfile(ROOT / ".streamlit" / "config.toml", home / ".streamlit" / "config.toml")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    (home / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "amokpi-report"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    env = {**os.environ, "AMOKPI_REPORT": str(demo_warehouse.serving), "AMOKPI_SERVING": str(demo_warehouse.serving)}
    log = (home / "streamlit.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
                                "--server.address", "127.0.0.1"], cwd=home, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: http_get(f"{url}/_stcore/health") == b"ok", 60, "streamlit")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def state(tab: DevTools) -> dict:
    return json.loads(str(tab.evaluate(STATE_JS) or "{}"))


def until(tab: DevTools, check: Callable[[dict], bool], what: str) -> dict:
    """The page's state once the script is idle and `check` holds; fails naming `what` after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    seen: dict = {}
    while time.monotonic() < deadline:
        try:
            seen = state(tab)
        except RuntimeError:  # between two documents
            seen = {}
        assert not seen.get("exceptions"), seen["exceptions"]
        if seen.get("idle") and check(seen):
            return seen
        time.sleep(0.15)
    raise AssertionError(f"{what}: not reached in {TIMEOUT:.0f} s; last {str(seen)[:400]}")


def click(tab: DevTools, selector: str, text: str | None = None) -> None:
    """Click the first element matching `selector` (and showing `text`)."""
    script = (f"(() => {{ const e = [...document.querySelectorAll({json.dumps(selector)})]"
              f".find(e => {json.dumps(text)} === null || e.innerText.trim() === {json.dumps(text)});"
              " if (!e) return false; e.click(); return true; })()")
    assert tab.evaluate(script), (selector, text)


def sign_in(tab: DevTools, report: str, email: str) -> dict:
    tab.call("Page.navigate", url=f"{report}/")
    until(tab, lambda s: "Войти" in s["buttons"], "the sign-in button")
    click(tab, "button", "Войти")
    # the provider's page: one button per known user
    wait_for(lambda: tab.evaluate(f"!!document.querySelector('button[name=sub][value={json.dumps(email)}]')"),
             TIMEOUT, "the provider's user list")
    click(tab, f"button[name=sub][value={json.dumps(email)}]")
    return until(tab, lambda s: s["host"] == report.split("//")[1] and f"Вы вошли как {email}" in s["text"]
                 and "Выйти" in s["buttons"], f"{email} signed in")


def sign_out(tab: DevTools, report: str) -> None:
    """Streamlit drops its cookie and sends the reader to the provider's end-session page (RP-initiated
    logout), which sends them back to the report."""
    click(tab, "button", "Выйти")
    wait_for(lambda: tab.evaluate("location.pathname === '/oauth2/end_session'"
                                  " && !!document.querySelector('form button[type=submit]')"), TIMEOUT,
             "the provider's end-session page")
    click(tab, "form button[type=submit]", "End session")
    page = until(tab, lambda s: s["host"] == report.split("//")[1] and "Войти" in s["buttons"]
                 and "Выйти" not in s["buttons"], "signed out")
    assert "Вы вошли как" not in page["text"]


def go(tab: DevTools, report: str, page: str, check: Callable[[dict], bool], **query: object) -> dict:
    tab.call("Page.navigate", url=f"{report}/{page}" + (f"?{urlencode(query)}" if query else ""))
    time.sleep(0.3)  # let the old document go
    return until(tab, check, f"/{page}")


def staff(path: Path) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select m.manager_id, m.manager_name, m.group_id, m.group_name from marts.dim_managers m"
                           " where m.manager_id in (select manager_id from marts.mart_manager_kpi_monthly)").fetchdf()


def user(path: Path, email: str) -> pd.Series:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select * from marts.dim_report_access where email = ?", [email]).fetchdf().iloc[0]


def names_in(text: str, names: set[str]) -> set[str]:
    return {name for name in names if name in text}


def test_each_person_signs_in_to_their_scope_and_out(signin_report: str, provider: str, browser: str,  # noqa: F811
                                                     demo_warehouse) -> None:
    serving = demo_warehouse.serving
    people = staff(serving)
    everyone = set(people["manager_name"])
    me, lead = user(serving, MANAGER), user(serving, LEAD)
    other = people[people["group_id"] != me["group_id"]].iloc[0]
    team = set(people.loc[people["group_id"] == lead["group_id"], "manager_name"])
    tab = open_tab(browser)
    try:
        # nobody signed in: the sign-in button and not one figure
        tab.call("Page.navigate", url=f"{signin_report}/managers")
        anonymous = until(tab, lambda s: "Войти" in s["buttons"], "the sign-in page")
        assert not names_in(anonymous["text"], everyone)

        # a manager: their own name, nobody else's, on the leaderboard and on an edited URL
        sign_in(tab, signin_report, MANAGER)
        board = go(tab, signin_report, "managers", lambda s: me["user_name"] in s["text"])
        assert names_in(board["text"], everyone) == {me["user_name"]}
        tampered = go(tab, signin_report, "manager", lambda s: me["user_name"] in s["text"],
                      manager=int(other["manager_id"]), team=int(other["group_id"]))
        assert names_in(tampered["text"], everyone) == {me["user_name"]}
        assert str(other["group_name"]) not in tampered["text"]
        assert f"manager={other['manager_id']}" not in tampered["search"]  # the URL says what is shown
        sign_out(tab, signin_report)

        # a team lead: their team, no one of the other team
        sign_in(tab, signin_report, LEAD)
        board = go(tab, signin_report, "managers", lambda s: lead["user_name"] in s["text"])
        assert names_in(board["text"], everyone) == team
        sign_out(tab, signin_report)

        # the head of sales: everyone
        sign_in(tab, signin_report, HEAD)
        board = go(tab, signin_report, "managers", lambda s: names_in(s["text"], everyone) == everyone)
        assert names_in(board["text"], everyone) == everyone
        sign_out(tab, signin_report)

        # signed out means out: the cookie is gone, a page asks to sign in again
        after = go(tab, signin_report, "managers", lambda s: "Войти" in s["buttons"])
        assert not names_in(after["text"], everyone)
    finally:
        tab.close()
