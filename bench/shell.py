"""What the app shell costs: the same demo database served by `streamlit run navigation.py` (the page script as a
plain Streamlit app: no gate, no sign-in, no API; the baseline) and by `streamlit run app.py` (the st.App shell),
then, with an owner password set, through a signed-in session.

    python bench/shell.py [--requests 200] [--loads 5]

Prints medians and the ratio shell / baseline for: an HTTP request on a fresh connection (health and the index
page), a page load in headless Chromium until the Dashboard's heading and charts show, and the loopback API as
the CLI calls it (`core.access.local_api.call_app`, one connection per call), plus one argon2 verification.
All traffic stays on 127.0.0.1. Asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.access.local_api import call_app  # noqa: E402
from core.access.owner import hash_password, set_password, verify_password  # noqa: E402

PASSWORD = "bench password 123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(script: str, db: Path, env_extra: dict | None = None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "VELOCOACH_DB": str(db), "VELOCOACH_DATA_DIR": str(db.parent / "files"),
           "VELOCOACH_SEED_DEMO": "0", **(env_extra or {})}
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / script), "--server.port",
                                str(port), "--server.headless", "true", "--server.fileWatcherType", "none"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.25)
    process.kill()
    raise SystemExit(f"{script} did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(20)


def request_ms(port: int, path: str, n: int, headers: dict | None = None) -> float:
    runs = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path, headers=headers or {})
        conn.getresponse().read()
        conn.close()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


def page_load_ms(port: int, loads: int, password: str | None = None) -> float:
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                             args=["--no-sandbox", "--headless"])
        context = browser.new_context()
        context.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url
                      else route.abort())
        page = context.new_page()
        if password:
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_label("Owner password").fill(password)
            page.get_by_role("button", name="Sign in").click()
        for i in range(loads + 1):
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("heading", name="Dashboard").wait_for(timeout=120_000)
            page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=120_000)
            if i:  # the first load warms the caches
                runs.append((time.perf_counter() - t0) * 1000)
        browser.close()
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.duckdb"
        subprocess.run([sys.executable, "-m", "core", "--db", str(db), "demo", "--years", "0.2", "--json"],
                       cwd=ROOT, check=True, capture_output=True)
        results: dict[str, dict[str, float]] = {}
        for label, script in (("baseline (navigation.py)", "navigation.py"), ("shell (app.py)", "app.py")):
            process, port = start(script, db)
            try:
                results[label] = {
                    "GET /_stcore/health (ms)": request_ms(port, "/_stcore/health", args.requests),
                    "GET / (ms)": request_ms(port, "/", args.requests),
                    "page load to charts (ms)": page_load_ms(port, args.loads),
                }
                if script == "app.py":
                    files = db.parent / "files"
                    call_app(files, "ping")
                    runs = []
                    for _ in range(args.requests):
                        t0 = time.perf_counter()
                        call_app(files, "ping")
                        runs.append((time.perf_counter() - t0) * 1000)
                    runs.sort()
                    api = (statistics.median(runs), runs[int(0.95 * (len(runs) - 1))])
            finally:
                stop(process)
        set_password(db.parent / "files", PASSWORD)
        process, port = start("app.py", db)
        try:
            signed_in = page_load_ms(port, args.loads, PASSWORD)
        finally:
            stop(process)
        stored = hash_password(PASSWORD)
        argon = statistics.median(_timed(lambda: verify_password(stored, PASSWORD)) for _ in range(7))

    base, shell = results["baseline (navigation.py)"], results["shell (app.py)"]
    print(f"{'':28s}{'baseline':>12s}{'shell':>12s}{'ratio':>8s}")
    for key in base:
        print(f"{key:28s}{base[key]:12.2f}{shell[key]:12.2f}{shell[key] / base[key]:8.2f}")
    print(f"{'page load, signed in (ms)':28s}{base['page load to charts (ms)']:12.2f}{signed_in:12.2f}"
          f"{signed_in / base['page load to charts (ms)']:8.2f}")
    print(f"loopback API ping via call_app: median {api[0]:.2f} ms, p95 {api[1]:.2f} ms (new connection per call)")
    print(f"argon2 verification (one sign-in): {argon:.0f} ms")


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


if __name__ == "__main__":
    main()
