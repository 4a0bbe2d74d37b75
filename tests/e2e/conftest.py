"""Real-browser tests: `streamlit run app.py` on a free port, Debian's Chromium driven by Playwright.

Every request that is not to 127.0.0.1/localhost is aborted and recorded, so the app is proven to work offline.
Screenshots land in test-artifacts/ (git-ignored) to be looked at.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("VELOCOACH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    def __init__(self, db_path: Path, env_extra: dict | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "VELOCOACH_AI"))}
        env.update({"VELOCOACH_DB": str(db_path), "VELOCOACH_ENV": "test",
                    "VELOCOACH_DATA_DIR": str(db_path.parent / "files")})
        env.update(env_extra or {})
        # beside the database, or beside its folder when the app is to create that folder itself
        self.log_path = (db_path.parent if db_path.parent.exists() else db_path.parent.parent) / "streamlit.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("streamlit did not start within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory, worker_id) -> Path:
    """A demo database (a short season: 10 weeks), built once per test run and copied for each app start: under
    xdist the first worker to need it builds it in the run's shared temporary folder while the others wait."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # every worker's basetemp sits in the run's folder
    path = shared / "e2e-demo.duckdb"
    claim = shared / "e2e-demo.building"
    try:
        os.close(os.open(claim, os.O_CREAT | os.O_EXCL))
    except FileExistsError:  # another worker is building it
        deadline = time.monotonic() + 600
        while not path.exists() and claim.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        if path.exists():
            return path
    partial = shared / f"e2e-demo-{worker_id}.duckdb"
    try:
        subprocess.run([sys.executable, "-m", "core", "--db", str(partial), "demo", "--years", "0.2", "--json"],
                       cwd=ROOT, check=True, capture_output=True, timeout=600)
        os.replace(partial, path)
    finally:
        claim.unlink(missing_ok=True)  # a failed build lets a waiting worker try for itself
    return path


@pytest.fixture
def start_app(tmp_path, demo_db_template):
    """start_app(db_path=None, **env) -> AppServer. Without db_path the app opens a copy of the demo database
    (pass VELOCOACH_SEED_DEMO="0" for an empty one)."""
    servers = []

    def start(db_path: Path | None = None, **env) -> AppServer:
        if db_path is None:
            db_path = tmp_path / "e2e.duckdb"
            if env.get("VELOCOACH_SEED_DEMO") != "0":
                shutil.copy(demo_db_template, db_path)
        server = AppServer(db_path, env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


_playwright = _browser = None  # one Chromium per test process (each xdist worker), launched on first use


def _shared_browser():
    """This process's Chromium: launching one costs ~3 s and ~1.7 s of CPU, so the e2e tests share it and each
    gets a fresh context (its own cookies, storage and cache) instead; launched again if it went away."""
    global _playwright, _browser
    if _browser is None or not _browser.is_connected():
        from playwright.sync_api import sync_playwright

        _playwright = _playwright or sync_playwright().start()
        _browser = _playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
    return _browser


def _playwright_loop(active: bool) -> None:
    """Playwright's sync API runs its event loop in a greenlet of this thread, so between e2e tests asyncio
    would take that loop for one running here and refuse ``asyncio.run`` in the unit tests this worker runs
    next: the loop is marked running only while a test drives the browser."""
    if _playwright is not None:
        asyncio.events._set_running_loop(_playwright._loop if active else None)


@pytest.fixture(scope="session", autouse=True)
def _close_shared_browser():
    yield
    global _playwright, _browser
    _playwright_loop(True)
    if _browser is not None:
        _browser.close()
    if _playwright is not None:
        _playwright.stop()
    _playwright = _browser = None


@contextmanager
def chromium_page():
    """A Chromium page in a fresh browser context with every non-local request aborted; ``page.blocked_requests``
    lists them and ``page.dialogs`` every alert/confirm/prompt a page opened (each is dismissed)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    _playwright_loop(True)
    context = _shared_browser().new_context(viewport={"width": 1400, "height": 1000})
    blocked: list[str] = []
    dialogs: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname or ""
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    def dialog(event):
        dialogs.append(f"{event.type}: {event.message}")
        event.dismiss()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("dialog", dialog)
    page.set_default_timeout(30_000)
    page.blocked_requests = blocked
    page.dialogs = dialogs
    try:
        yield page
    finally:
        context.close()
        _playwright_loop(False)


@pytest.fixture
def browser_page():
    """A Chromium page with every non-local request aborted (see chromium_page)."""
    with chromium_page() as page:
        yield page


def screenshot(page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_app(page, timeout_ms: int = 90_000) -> None:
    """Wait until Streamlit has run the script: connected, its script state ``notRunning`` (Streamlit's own
    attribute on stApp, set the moment a run ends), nothing stale, no loading skeleton and no visible status
    widget — twice in a row a quarter of a second apart (a component or the page itself may ask for a rerun just
    after the first quiet moment; the state then reads ``rerunRequested`` or ``running``)."""
    page.wait_for_selector('[data-testid="stApp"]')
    for _ in range(2):
        page.wait_for_function(QUIET, timeout=timeout_ms)
        page.wait_for_timeout(250)
    page.wait_for_function(QUIET, timeout=timeout_ms)


QUIET = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]')) return false;
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  return (!status || status.offsetParent === null)
      && document.querySelector('[data-testid="stMainBlockContainer"], .main') !== null;
}"""


def open_app(page, server: AppServer, path: str = "") -> None:
    """Open ``path`` (e.g. "/compare?a=1&b=2") the way a rider does: the app's root first, then the link.

    Streamlit 1.67 treats the very first session of a server as a legacy pages-folder app: a deep link opened
    before anything else shows a "Page not found" notice (then runs the right page). Riders start at the root
    URL that `streamlit run` opens; test_app_e2e covers the cold deep link separately. The root's session only
    has to reach its navigation (then the server knows the pages); its Dashboard need not finish drawing."""
    if not getattr(server, "warmed", False):
        server.warmed = True
        page.goto(server.url)
        if not path:
            wait_for_app(page)
            return
        page.locator('[data-testid="stSidebarNav"] a').first.wait_for(timeout=90_000)
    page.goto(f"{server.url}{path}")
    wait_for_app(page)


def chart_tooltip(page, key: str, height_share: float = 0.5) -> dict[str, str]:
    """Point at the middle of the keyed Vega-Lite chart (``.st-key-{key}``), at ``height_share`` of its height,
    once it has drawn, and return its tooltip's rows (name → value)."""
    chart = page.locator(f".st-key-{key}")
    chart.locator("canvas, svg.marks").first.wait_for()
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * height_share)
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=10_000)
    return dict(zip(tooltip.locator("td.key").all_text_contents(), tooltip.locator("td.value").all_text_contents(),
                    strict=True))
