"""End to end: `streamlit run` on loopback, driven by headless Chromium over the DevTools protocol.

Saves a screenshot of every page to artifacts/screenshots/ with the measured load times
(artifacts/screenshots/load_times.json), and fails on any Streamlit exception shown in a page.
A publish of a fresh serving copy while the report is open must leave both working.

Chromium is Debian's (`make chromium`, which `make test` runs). The DevTools websocket is spoken
with the standard library only, so the test needs no extra package.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode, urlparse

import duckdb
import pytest
from local_processes import free_port, wait_for
from report_language import data_values, problems

from streamlit_app import formatting
from streamlit_app.navigation import PAGES, titles

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app" / "app.py"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("AMOKPI_CHROMIUM", "/usr/bin/chromium")
RENDER_TIMEOUT = 60.0
# The tour: every page in Russian with a screenshot; in English the pages with money axes and the most text
# (test_report_pages checks every page in both languages through AppTest, at a tenth of a browser's cost).
# AMOKPI_E2E_FULL=1 tours and photographs every page in both languages.
FULL_TOUR = os.environ.get("AMOKPI_E2E_FULL") == "1"
TOUR = {"ru": PAGES, "en": PAGES if FULL_TOUR else ("overview", "funnel", "managers", "marketing")}

# The page is rendered when Streamlit's script has finished, the title is drawn, nothing is a
# skeleton any more and every chart has drawn its canvas/svg.
RENDER_STATE_JS = """
(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return JSON.stringify({ready: false, why: 'no app'});
  const state = app.getAttribute('data-test-script-state');
  const running = document.querySelector('[data-testid="stStatusWidget"]');
  const title = document.querySelector('h1');
  const skeletons = document.querySelectorAll('[data-testid="stSkeleton"]').length;
  const charts = document.querySelectorAll('[data-testid="stVegaLiteChart"]');
  const drawn = [...charts].filter(c => c.querySelector('canvas, svg')).length;
  const exceptions = [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText);
  const ready = state === 'notRunning' && !running && !!title && skeletons === 0 && drawn === charts.length;
  const deploy = !!document.querySelector('[data-testid="stAppDeployButton"]');
  const nav = [...document.querySelectorAll('[data-testid="stSidebarNav"] a')].map(a => a.innerText.trim());
  return JSON.stringify({ready, state, title: title && title.innerText, exceptions, deploy, nav,
                         path: location.pathname, search: location.search,
                         charts: charts.length, tables: document.querySelectorAll('[data-testid="stDataFrame"]').length,
                         text: document.body.innerText.length});
})()
"""


# ---------------------------------------------------------------- a minimal DevTools websocket client


class DevTools:
    """Just enough RFC 6455 to send CDP commands and read their replies (client frames are masked)."""

    def __init__(self, ws_url: str, timeout: float = 60.0) -> None:
        url = urlparse(ws_url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {url.path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the handshake")
            response += chunk
        head, self.buffer = response.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.next_id = 0

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("DevTools connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _frame(self) -> tuple[int, bool, bytes]:
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        mask = self._read(4) if second & 0x80 else b""
        payload = self._read(length)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return first & 0x0F, bool(first & 0x80), payload

    def _message(self) -> dict:
        parts: list[bytes] = []
        while True:
            opcode, final, payload = self._frame()
            if opcode == 0x9:  # ping
                self._send(payload, opcode=0xA)
                continue
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the connection")
            parts.append(payload)
            if final:
                return json.loads(b"".join(parts))

    def _send(self, payload: bytes, opcode: int = 0x1) -> None:
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}).encode())
        while True:
            message = self._message()
            if message.get("id") == self.next_id:  # events in between are not needed
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> object:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def close(self) -> None:
        self.sock.close()


# ---------------------------------------------------------------- processes


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


@pytest.fixture(scope="module")
def serving_copy(demo_warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report's own serving file, so the load test can publish over it without touching the shared one."""
    path = tmp_path_factory.mktemp("e2e") / "warehouse.serving.duckdb"
    # AMOKPI_E2E_SERVING measures the pages on another warehouse, e.g. the full `amokpi demo` one
    shutil.copyfile(os.environ.get("AMOKPI_E2E_SERVING") or demo_warehouse.serving, path)
    return path


@pytest.fixture(scope="module")
def report_url(serving_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("streamlit") / "streamlit.log").open("wb")
    # the real command, with the project's .streamlit/config.toml (loopback, no Deploy button)
    env = {**os.environ, "AMOKPI_SERVING": str(serving_copy), "AMOKPI_REPORT": str(serving_copy)}
    process = subprocess.Popen([str(Path(sys.executable).with_name("amokpi")), "report", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
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


@pytest.fixture(scope="module")
def browser() -> Iterator[str]:
    """Headless Chromium with the DevTools endpoint on a loopback port; yields its HTTP address."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make chromium`"
    profile = tempfile.mkdtemp(prefix="amokpi-chromium-")
    process = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0", "--window-size=1440,2000", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        active = Path(profile) / "DevToolsActivePort"  # Chromium writes the port it picked here
        port = wait_for(lambda: active.exists() and active.read_text().split("\n")[0].strip(), 30, "chromium")
        endpoint = f"http://127.0.0.1:{port}"
        wait_for(lambda: http_get(f"{endpoint}/json/version"), 30, "devtools")
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def open_tab(endpoint: str) -> DevTools:
    request = urllib.request.Request(f"{endpoint}/json/new?about:blank", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        target = json.loads(response.read())
    tab = DevTools(target["webSocketDebuggerUrl"])
    tab.call("Page.enable")
    tab.call("Emulation.setDeviceMetricsOverride", width=1440, height=2000, deviceScaleFactor=1, mobile=False)
    return tab


def render(tab: DevTools, url: str) -> tuple[float, dict]:
    """Navigate and wait until Streamlit has drawn the page; returns (seconds, final page state)."""
    started = time.monotonic()
    tab.call("Page.navigate", url=url)
    time.sleep(0.2)  # let the old document go before polling the new one
    deadline = started + RENDER_TIMEOUT
    state: dict = {}
    while time.monotonic() < deadline:
        state = json.loads(str(tab.evaluate(RENDER_STATE_JS) or "{}"))
        if state.get("exceptions"):
            break
        if state.get("ready"):
            elapsed = time.monotonic() - started
            # confirm: still ready a moment later (Streamlit may start a second run for the URL state)
            time.sleep(0.3)
            again = json.loads(str(tab.evaluate(RENDER_STATE_JS) or "{}"))
            if again.get("ready"):
                return elapsed, again
        time.sleep(0.1)
    raise AssertionError(f"{url} did not render in {RENDER_TIMEOUT:.0f} s: {state}")


def switch(tab: DevTools, page: str, title: str) -> tuple[float, dict]:
    """Click `page`'s link in the sidebar and wait until Streamlit has drawn it (its `title` in the heading);
    returns (seconds, final page state). No page load: the app stays, as it does for a reader, at a third of
    the browser's CPU of opening the page's address."""
    started = time.monotonic()
    path = urlparse(page_url("", page)).path or "/"
    clicked = tab.evaluate("(() => { const a = [...document.querySelectorAll('[data-testid=\"stSidebarNav\"] a')]"
                           f".find(a => new URL(a.href).pathname === {json.dumps(path)});"
                           " if (!a) return false; a.click(); return true; })()")
    assert clicked, f"no link to {path} in the sidebar"
    for _ in range(5):
        settled(tab, lambda s: s["path"] == path and (s["title"] or "").endswith(title), RENDER_TIMEOUT)
        elapsed = time.monotonic() - started
        time.sleep(0.3)  # confirm, as render does: still drawn a moment later
        again = json.loads(str(tab.evaluate(RENDER_STATE_JS) or "{}"))
        if again.get("ready") or again.get("exceptions"):
            return elapsed, again
    raise AssertionError(f"{path} never stayed drawn: {again}")


def screenshot(tab: DevTools, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to its height first."""
    height = tab.evaluate(
        "(() => { const m = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
        " return m ? Math.ceil(m.getBoundingClientRect().top + m.scrollHeight) : 2000; })()"
    )
    height = min(max(int(height or 2000) + 80, 1000), 8000)
    tab.call("Emulation.setDeviceMetricsOverride", width=1440, height=height, deviceScaleFactor=1, mobile=False)
    time.sleep(0.5)  # let the charts lay out at the new size
    try:
        shot = tab.call("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
    finally:
        tab.call("Emulation.setDeviceMetricsOverride", width=1440, height=2000, deviceScaleFactor=1, mobile=False)


def page_url(base: str, page: str, **query: object) -> str:
    """A page's address: its URL path (the home page is `/`) and the filters in the query string."""
    path = "" if page == "overview" else page
    return f"{base}/{path}" + (f"?{urlencode(query)}" if query else "")


def settled(tab: DevTools, check: Callable[[dict], bool], timeout: float = 20.0) -> dict:
    """Wait until the page is rendered and `check` holds for its state (path, search, title, …)."""
    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        state = json.loads(str(tab.evaluate(RENDER_STATE_JS) or "{}"))
        if state.get("ready") and check(state):
            return state
        time.sleep(0.2)
    raise AssertionError(f"not settled on {check}: {state}")


# ---------------------------------------------------------------- tests


# The text a reader sees: the page's text and the charts' (SVG) axis labels, titles and legends. The tables'
# cells are drawn on a canvas (their accessible copy holds the raw values): test_report_pages checks them.
VISIBLE_TEXT_JS = "document.body.innerText"
CHART_TEXT_JS = ("JSON.stringify([...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg text')]"
                 ".map(t => t.textContent))")
# The tour's tests are heavier checks: make test-slow (CI) and make bench; make test keeps the first-screen one
browser_tour = pytest.mark.slow

GROUPED = {"ru": re.compile(r"^-?\d{1,3}(\u00a0\d{3})+$"), "en": re.compile(r"^-?\d{1,3}(,\d{3})+$")}


@browser_tour
def test_every_page_renders_in_chromium(report_url: str, browser: str, serving_copy: Path) -> None:
    values = data_values(serving_copy)
    tab = open_tab(browser)
    times: dict[str, float] = {}
    try:
        render(tab, page_url(report_url, "overview"))  # warm-up: first connection and cache fill
        for lang, pages in TOUR.items():
            # the reader opens the report in their language, then goes from page to page by the sidebar's links
            # (each page by its own address is test_filtered_view_from_a_shared_url's)
            seconds, state = render(tab, page_url(report_url, pages[0], lang=lang))
            for page in pages:
                if page != pages[0]:
                    seconds, state = switch(tab, page, titles(lang)[page])
                name = f"{page}_{lang}.png"
                if FULL_TOUR or lang == "ru" or page == "overview":
                    screenshot(tab, SCREENSHOTS / name)
                times[name] = round(seconds, 2)
                assert not state["exceptions"], (page, lang, state["exceptions"])
                assert not state["deploy"], "stakeholders must not see Streamlit's Deploy button"
                assert state["title"], (page, lang)
                if page != "quality":
                    assert state["tables"] >= 1, (page, lang, state)
                if page == "overview":  # the navigation's titles are in the reader's language
                    assert state["nav"][:2] == (["Обзор", "Воронка"] if lang == "ru" else ["Overview", "Funnel"])
                # the reader's language only: no key, no None, no other language, the language's number formats
                text = str(tab.evaluate(VISIBLE_TEXT_JS))
                assert not problems([text], lang, values), (page, lang, problems([text], lang, values))
                chart_text = json.loads(str(tab.evaluate(CHART_TEXT_JS) or "[]"))
                if page in ("overview", "marketing"):  # money axes group thousands the language's way
                    assert any(GROUPED[lang].match(label) for label in chart_text), (page, lang, chart_text)
    finally:
        tab.close()
    (SCREENSHOTS / "load_times.json").write_text(json.dumps(times, indent=2))
    print("page load times (s):", json.dumps(times))
    shots = [name for name in times if (SCREENSHOTS / name).exists()]
    assert len(shots) >= len(PAGES) and all((SCREENSHOTS / name).stat().st_size > 10_000 for name in shots)


@browser_tour
def test_filtered_view_from_a_shared_url(report_url: str, browser: str, serving_copy: Path) -> None:
    with duckdb.connect(str(serving_copy), read_only=True) as con:
        team, manager = con.execute(
            "select group_id, manager_id from marts.mart_manager_kpi_monthly where group_id is not null"
            " order by month_start desc, revenue_amount desc nulls last limit 1").fetchone()
    tab = open_tab(browser)
    try:
        # every page with both filters is test_report_pages' (AppTest); here the address as a browser opens it
        for page in ("funnel", "alerts", "quality"):
            seconds, state = render(tab, page_url(report_url, page, team=team, manager=manager))
            assert not state["exceptions"], (page, state["exceptions"])
            assert f"team={team}" in state["search"] and f"manager={manager}" in state["search"], state
        screenshot(tab, SCREENSHOTS / "quality_filtered_ru.png")
        seconds, state = render(tab, page_url(report_url, "managers", team=team, manager=manager))
        screenshot(tab, SCREENSHOTS / "managers_filtered_ru.png")
        assert state["tables"] >= 2
        # a range of months, shared by its address: the first screen over May–September in the reader's words
        with duckdb.connect(str(serving_copy), read_only=True) as con:
            months = [m for (m,) in con.execute("select distinct month_start from marts.mart_department_kpi_monthly"
                                                " order by 1 desc limit 6").fetchall()]
        first, last = months[-1], months[1]
        seconds, state = render(tab, page_url(report_url, "overview", period="range", **{"from": first.isoformat()},
                                              month=last.isoformat()))
        assert not state["exceptions"] and "period=range" in state["search"], state
        screenshot(tab, SCREENSHOTS / "overview_range_ru.png")
        text = str(tab.evaluate(VISIBLE_TEXT_JS))
        assert formatting.month_span(first, last, "ru") in text, text[:500]
    finally:
        tab.close()


@browser_tour
def test_page_switch_keeps_the_filters_and_old_links_still_work(
    report_url: str, browser: str, serving_copy: Path
) -> None:
    with duckdb.connect(str(serving_copy), read_only=True) as con:
        (team,) = con.execute("select group_id from marts.mart_manager_kpi_monthly where group_id is not null"
                              " order by month_start desc, revenue_amount desc nulls last limit 1").fetchone()
    tab = open_tab(browser)
    try:
        render(tab, page_url(report_url, "funnel", team=team, lang="en"))
        settled(tab, lambda s: s["path"].endswith("/funnel") and f"team={team}" in s["search"])
        # click "Managers" in the sidebar navigation: the page changes, the filters stay in the address
        tab.evaluate("[...document.querySelectorAll('[data-testid=\"stSidebarNav\"] a')]"
                     ".find(a => a.innerText.trim() === 'Managers').click()")
        state = settled(tab, lambda s: s["path"].endswith("/managers") and f"team={team}" in s["search"]
                        and "lang=en" in s["search"])
        assert not state["exceptions"] and state["title"].endswith("Managers")
        # an address from before st.navigation (`?page=…`) lands on that page with its filters
        render(tab, f"{report_url}/?{urlencode({'page': 'alerts', 'team': team})}")
        state = settled(tab, lambda s: s["path"].endswith("/alerts") and f"team={team}" in s["search"]
                        and "page=" not in s["search"])
        assert not state["exceptions"] and state["title"].endswith("Сигналы")
    finally:
        tab.close()


@pytest.mark.slow  # a publish under an open browser: a heavier check, in `make bench`
def test_publish_while_the_report_is_open(
    report_url: str, browser: str, serving_copy: Path, demo_warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load publishes a fresh serving copy while the browser keeps re-running pages: neither breaks."""
    from ingestion.pipeline import runner

    monkeypatch.setenv("AMOKPI_SERVING", str(serving_copy))  # publish() swaps in at the report's file
    warehouse = serving_copy.with_name("warehouse.duckdb")  # publishing writes to its warehouse: not the shared one
    shutil.copyfile(demo_warehouse.warehouse, warehouse)
    tab = open_tab(browser)
    stop = threading.Event()
    failures: list[object] = []
    renders: list[float] = []

    def keep_reading() -> None:
        try:
            while not stop.is_set():
                for page in ("overview", "managers", "alerts"):
                    seconds, state = render(tab, page_url(report_url, page))
                    renders.append(seconds)
                    if state["exceptions"]:
                        failures.append(state["exceptions"])
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    before = serving_copy.stat()
    reader = threading.Thread(target=keep_reading, daemon=True)
    reader.start()
    try:
        time.sleep(1.0)
        # The report holds no lock on the file: publishing (checkpoint + copy + atomic rename) goes through.
        published = [runner.publish(warehouse) for _ in range(3)]
        time.sleep(1.0)
    finally:
        stop.set()
        reader.join(RENDER_TIMEOUT + 5)
    try:
        assert not failures, failures
        assert all(path == serving_copy.resolve() for path in published)
        after = serving_copy.stat()  # a new file was swapped in (an inode number alone may be reused)
        assert (after.st_ino, after.st_mtime_ns) != (before.st_ino, before.st_mtime_ns)
        assert len(renders) >= 3
        seconds, state = render(tab, page_url(report_url, "overview"))  # and the report still reads it
        assert not state["exceptions"] and state["tables"] >= 1
        screenshot(tab, SCREENSHOTS / "overview_after_publish_ru.png")
    finally:
        tab.close()


def test_first_screen_excel_and_manager_link_in_chromium(report_url: str, browser: str, serving_copy: Path) -> None:
    """The overview's first table offers Excel; the link of the manager most behind opens that manager's page."""
    with duckdb.connect(str(serving_copy), read_only=True) as con:
        month = con.execute("select max(month_start) from marts.mart_department_kpi_monthly").fetchone()[0]
        manager, name = con.execute(
            "select manager_id, manager_name from marts.mart_manager_kpi_monthly where month_start = ?"
            " order by plan_fulfillment_rate nulls last limit 1", [month]).fetchone()
    tab = open_tab(browser)
    try:
        render(tab, page_url(report_url, "overview"))
        buttons = tab.evaluate("JSON.stringify([...document.querySelectorAll('[data-testid=stDownloadButton]')]"
                               ".map(b => b.innerText.trim()))")
        labels = json.loads(str(buttons))
        assert labels.count("Скачать Excel") == labels.count("Скачать CSV") >= 2, labels
        text = str(tab.evaluate("document.body.innerText"))
        assert "Кто отстаёт и почему" in text and "None" not in text
        # the link the table holds for that manager (manager?manager=…&month=…&lang=…), opened as the reader would
        _, state = render(tab, f"{report_url}/manager?manager={manager}&month={month.isoformat()}&lang=ru")
        assert not state["exceptions"]
        text = str(tab.evaluate("document.body.innerText"))
        assert f"{name} ·" in text, text[:500]
        screenshot(tab, SCREENSHOTS / "manager_from_first_screen_ru.png")
    finally:
        tab.close()
