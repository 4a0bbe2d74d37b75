"""A rider's first move after the Dashboard: the Ride page from the sidebar, in the same browser tab, timed from the
click to its first Plotly chart drawn — with the Dashboard's idle-time Plotly warm-up (ui.warm_chart_library)
against the same app without it (VELOCOACH_NO_CHART_WARMUP=1), in the same run, in headless Chromium.

    python bench/app_navigation.py [--db /tmp/velocoach-bench-10y.duckdb] [--rounds 4] [--read-s 6]

Each round, for each side in turn, on its own warm server: a new browser session opens the Dashboard, waits until
it is drawn and idle, lets ``--read-s`` seconds pass (the rider reads it), clicks "Ride" in the sidebar and waits
for the first Plotly chart's SVG. Prints medians and the ratio. All traffic stays on 127.0.0.1. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.app_start import CHART, RUNNING, launch, stop  # noqa: E402
from bench.cli_start import DEFAULT_DB, ensure_database  # noqa: E402

PLOTLY_DRAWN = '[data-testid="stPlotlyChart"] .main-svg'


def dashboard_then_ride(browser, url: str, read_s: float) -> float:
    context = browser.new_context()
    context.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url else route.abort())
    page = context.new_page()
    try:
        end = time.monotonic() + 120
        while True:
            try:
                page.goto(url, timeout=5_000)
                break
            except Exception:  # noqa: BLE001 — the server is still starting
                if time.monotonic() > end:
                    raise
                time.sleep(0.1)
        page.locator(CHART).first.wait_for(state="visible", timeout=120_000)
        page.locator(RUNNING).wait_for(state="hidden", timeout=120_000)
        time.sleep(read_s)
        start = time.perf_counter()
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Ride", exact=True).click()
        page.locator(PLOTLY_DRAWN).first.wait_for(state="visible", timeout=120_000)
        return time.perf_counter() - start
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--read-s", type=float, default=6.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    ensure_database(args.db, {**os.environ, "VELOCOACH_SEED_DEMO": "0"})
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        db = Path(tmp) / "bench.duckdb"
        shutil.copy(args.db, db)
        env = {**os.environ, "VELOCOACH_DB": str(db), "VELOCOACH_SEED_DEMO": "0",
               "VELOCOACH_DATA_DIR": str(Path(tmp) / "files")}
        sides = {"warmed while idle": env, "without the warm-up": {**env, "VELOCOACH_NO_CHART_WARMUP": "1"}}
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                             args=["--no-sandbox", "--headless"])
        servers = {name: launch(["run", "app.py"], side_env) for name, side_env in sides.items()}
        try:
            times: dict[str, list[float]] = {name: [] for name in sides}
            for _, port in servers.values():  # warm-up round: byte code, caches
                dashboard_then_ride(browser, f"http://127.0.0.1:{port}/", 1.0)
            for _ in range(args.rounds):
                for name, (_, port) in servers.items():
                    times[name].append(dashboard_then_ride(browser, f"http://127.0.0.1:{port}/", args.read_s))
        finally:
            for process, _ in servers.values():
                stop(process)
    base = statistics.median(times["without the warm-up"])
    print(f"Dashboard → Ride (click to first Plotly chart), {args.rounds} rounds, medians\n")
    print(f"{'side':<24}{'s':>7}{'ratio':>8}")
    for name, values in times.items():
        print(f"{name:<24}{statistics.median(values):>7.2f}{statistics.median(values) / base:>8.2f}")


if __name__ == "__main__":
    main()
