"""How soon the app shows something useful, in headless Chromium, against `streamlit hello` in the same run.

    python bench/app_start.py [--years 1] [--rounds 3] [--first-start]

Each round, one after the other (machine load hits all alike):
  * `streamlit hello`: process start to its title drawn with no running indicator (the baseline);
  * restart: `streamlit run app.py` on an existing demo database, process start to the Dashboard drawn (title and
    first chart visible, no running indicator);
  * with --first-start: the same on an empty database (the demo is seeded on the first start);
  * a new browser session on the warm server: the Dashboard, then (another new session) the Ride page (?id= the
    newest ride) to its first chart.
Prints medians over the rounds and the ratios (goals, issue 17: first start ≤ 2.5×, restart ≤ 1.5× hello; every page
in a new session ≤ 2× the Dashboard's). All traffic stays on 127.0.0.1. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shell import free_port  # noqa: E402

RUNNING = '[data-testid="stStatusWidget"]'
# A chart counts as drawn when its marks are on the page: Plotly's SVG, or Vega-Lite's canvas or SVG (the
# containers alone appear before the chart library has loaded).
CHART = ('[data-testid="stPlotlyChart"] .main-svg, [data-testid="stVegaLiteChart"] canvas, '
         '[data-testid="stVegaLiteChart"] svg.marks')


def launch(argv: list[str], env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "streamlit", *argv, "--server.port", str(port),
                                "--server.headless", "true", "--server.fileWatcherType", "none",
                                "--browser.gatherUsageStats", "false"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, port


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def drawn(browser, url: str, title: str, chart: bool, deadline_s: float = 300) -> None:
    """Open ``url`` in a new session (retrying until the server answers) and wait until ``title`` and, if
    ``chart``, the first chart are visible and no script is running."""
    context = browser.new_context()
    context.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url else route.abort())
    page = context.new_page()
    end = time.monotonic() + deadline_s
    while True:
        try:
            page.goto(url, timeout=5_000)
            break
        except Exception:  # noqa: BLE001 — the server is still starting
            if time.monotonic() > end:
                raise
            time.sleep(0.05)
    page.get_by_role("heading", name=title).first.wait_for(timeout=deadline_s * 1000)
    if chart:
        page.locator(CHART).first.wait_for(state="visible", timeout=deadline_s * 1000)
    page.locator(RUNNING).wait_for(state="hidden", timeout=deadline_s * 1000)
    context.close()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--first-start", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        db = Path(tmp) / "demo.duckdb"
        base_env = {**os.environ, "VELOCOACH_DATA_DIR": str(Path(tmp) / "files"), "VELOCOACH_SEED_DEMO": "0",
                    "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "velocoach-bench-pycache")}
        base_env.pop("PYTHONDONTWRITEBYTECODE", None)  # byte code cached, as on a rider's computer
        subprocess.run([sys.executable, "-m", "core", "--db", str(db), "demo", "--years", str(args.years), "--json"],
                       cwd=ROOT, env=base_env, check=True, capture_output=True)
        import duckdb

        with duckdb.connect(str(db), read_only=True) as con:
            newest = con.execute("SELECT max(id) FROM rides").fetchone()[0]
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                             args=["--no-sandbox", "--headless"])
        figures: dict[str, list[float]] = {}

        def start_to_drawn(argv, env, url_path, title, chart) -> float:
            start = time.perf_counter()
            process, port = launch(argv, env)
            try:
                drawn(browser, f"http://127.0.0.1:{port}{url_path}", title, chart)
                return time.perf_counter() - start
            finally:
                stop(process)

        app_env = {**base_env, "VELOCOACH_DB": str(db)}
        # Warm-up: byte code and the page cache for both sides.
        start_to_drawn(["hello"], base_env, "/", "Welcome to Streamlit!", False)
        start_to_drawn(["run", "app.py"], app_env, "/", "Dashboard", True)
        for _ in range(args.rounds):
            figures.setdefault("streamlit hello", []).append(
                start_to_drawn(["hello"], base_env, "/", "Welcome to Streamlit!", False))
            figures.setdefault("restart: Dashboard", []).append(
                start_to_drawn(["run", "app.py"], app_env, "/", "Dashboard", True))
            if args.first_start:
                empty = Path(tmp) / f"first-{len(figures['streamlit hello'])}.duckdb"
                figures.setdefault("first start (seeds the demo)", []).append(start_to_drawn(
                    ["run", "app.py"], {**app_env, "VELOCOACH_DB": str(empty), "VELOCOACH_SEED_DEMO": "1"}, "/",
                    "Dashboard", True))
            process, port = launch(["run", "app.py"], app_env)
            try:
                drawn(browser, f"http://127.0.0.1:{port}/", "Dashboard", True)  # the server is warm now
                figures.setdefault("new session: Dashboard", []).append(
                    timed(lambda port=port: drawn(browser, f"http://127.0.0.1:{port}/", "Dashboard", True)))
                figures.setdefault("new session: Ride", []).append(
                    timed(lambda port=port: drawn(browser, f"http://127.0.0.1:{port}/ride?id={newest}", "Ride",
                                                  True)))
            finally:
                stop(process)
        browser.close()
    med = {label: statistics.median(values) for label, values in figures.items()}
    hello, dash = med["streamlit hello"], med["new session: Dashboard"]
    print(f"demo database: {args.years:g} years; {args.rounds} rounds, medians\n")
    print(f"{'measure':<32}{'s':>8}{'ratio':>8}  against")
    for label, seconds in med.items():
        against, base = ("hello", hello) if not label.startswith("new session") else ("Dashboard session", dash)
        print(f"{label:<32}{seconds:>8.2f}{seconds / base:>8.2f}  {against}")


if __name__ == "__main__":
    main()
