"""Every page in a new browser session against the Dashboard's, and one interaction rerun per page, on the 10-year
demo database, in headless Chromium.

    python bench/app_pages.py [--db /tmp/velocoach-bench-10y.duckdb] [--rounds 2] [--pages ride,compare]

The database is the 10-year demo of bench/cli_start.py (built there once and kept); the app runs on a copy of it
in a temporary folder (the app may write: migrations, caches of derived figures). Each round, on one warm server:
  * a new browser session to every page of the navigation (address as a rider's link gives it: the Ride page with
    ?id= the newest ride, Compare with the two newest), timed to its title and (where it has one) first chart
    visible and no running indicator; the Dashboard is measured first and last and its median is the baseline;
  * in each session of a page, its representative interaction (a radio, a select box, a button): from the
    user's action to the rerun finished, measured in the browser (performance.now): the script run that the action
    started has ended, no element is left stale, no running indicator, and the changed element is drawn.
Prints medians over the rounds: each page's seconds and ratio against the Dashboard (goal, issue 17: ≤ 2×) and each
rerun's seconds against the goal (≤ 0.5 s). All traffic stays on 127.0.0.1. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.app_start import CHART, RUNNING, launch, stop  # noqa: E402
from bench.cli_start import DEFAULT_DB, ensure_database  # noqa: E402

RERUN_GOAL_S = 0.5
PAGE_GOAL_RATIO = 2.0

# Installed before the app's own scripts: notes the time (performance.now) of the user's last input event and
# counts the script runs the server reports finished (ForwardMsg.script_finished, field 6: 0 = finished, 3 = a
# fragment finished), read from the websocket's protobuf frames; so a rerun is timed in the browser from the
# action itself (Playwright's checks before a click are not the app's time). The script-state attribute alone
# is not enough: a fast rerun may never show "running" (React draws both changes at once).
PROBE = """(() => {
  window.__vcFinished = 0;
  const varint = (bytes, at) => {
    let value = 0, shift = 0, byte;
    do { byte = bytes[at++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return [value, at];
  };
  const finished = (data) => {
    if (!(data instanceof ArrayBuffer)) return false;
    const bytes = new Uint8Array(data);
    let at = 0;
    while (at < bytes.length) {
      let key, value;
      [key, at] = varint(bytes, at);
      const field = Math.floor(key / 8), wire = key % 8;
      if (wire === 0) { [value, at] = varint(bytes, at); if (field === 6) return value === 0 || value === 3; }
      else if (wire === 2) { [value, at] = varint(bytes, at); at += value; }
      else if (wire === 1) at += 8;
      else if (wire === 5) at += 4;
      else return false;
    }
    return false;
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => { if (finished(event.data)) window.__vcFinished += 1; });
    }
  };
  for (const kind of ['pointerdown', 'keydown']) {
    document.addEventListener(kind, () => {
      window.__vcInput = performance.now();
      window.__vcFinishedAtInput = window.__vcFinished;
    }, true);
  }
})();"""

# The time since the user's last input event (after t0), once the server reported the run it started finished, no
# script runs, nothing is stale, no running indicator shows and the changed element is drawn; false until then.
SETTLED = """([t0, running, expected]) => {
  if (!(window.__vcInput >= t0) || window.__vcFinished <= window.__vcFinishedAtInput) return false;
  const app = document.querySelector('[data-testid="stApp"]');
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  const status = document.querySelector(running);
  if (status && status.offsetParent !== null) return false;
  if (expected) {
    const element = document.querySelector(expected[0]);
    if (!element || element.offsetParent === null) return false;
    if (expected[1] && !new RegExp(expected[1]).test(element.textContent)) return false;
  }
  return performance.now() - window.__vcInput;
}"""


RIDE_STREAMS = ".st-key-ride_streams_chart canvas, .st-key-ride_streams_chart svg.marks"
COMPARE_STREAMS = ".st-key-compare_streams_chart canvas, .st-key-compare_streams_chart svg.marks"
COMPARE_DELTA = ".st-key-compare_delta_chart canvas, .st-key-compare_delta_chart svg.marks"


@dataclass
class Interaction:
    label: str
    act: object  # fn(page): the user's action
    expected: tuple[str, str] | None = None  # (CSS selector drawn after the rerun, regex its text must match)
    prepare: object = None  # fn(page): what must happen before (not timed)


@dataclass
class PageCase:
    title: str
    path: str
    chart: bool
    interactions: list[Interaction] = field(default_factory=list)


def _radio(label: str):
    return lambda page: page.locator('[data-testid="stRadio"] label').filter(has_text=label).first.click()


def _button(name: str):
    return lambda page: page.get_by_role("button", name=name, exact=True).first.click()


def _select_next(name: str):
    """A select box (react-aria ComboBox: the arrow key opens it) moved to its next option with the keyboard."""
    def act(page):
        box = page.get_by_role("combobox", name=name, exact=True).first
        box.press("ArrowDown")
        box.press("ArrowDown")
        box.press("Enter")
    return act


def _select_prepare(name: str):
    def prepare(page):
        page.get_by_role("combobox", name=name, exact=True).first.wait_for()
    return prepare


def cases(newest: list[int]) -> list[PageCase]:
    a, b = newest[0], newest[1]
    return [
        PageCase("Dashboard", "/", True, [
            Interaction("period: Monthly", _radio("Monthly"), (".st-key-volume_chart", "Month")),
            Interaction("zones: Heart rate", _radio("Heart rate"), (".st-key-zones_chart", "HR Z1")),
        ]),
        PageCase("Rides", "/rides", False, [
            Interaction("sort: ascending", lambda page: page.get_by_text("Descending").first.click(),
                        ('[data-testid="stDataFrame"]', "")),
        ]),
        PageCase("Ride", f"/ride?id={a}", True, [
            # Vega draws the streams on a canvas: no axis text in the page to wait for, the marks' canvas instead
            Interaction("picker: the next ride", _select_next("Ride"), (RIDE_STREAMS, ""), _select_prepare("Ride")),
            Interaction("charts against distance", _radio("distance"), (RIDE_STREAMS, "")),
        ]),
        PageCase("Power", "/power", True),
        PageCase("Routes", "/routes", True, [
            Interaction("highlight a section", _select_next("Highlight a section"),
                        (".st-key-routes_profile", ""), _select_prepare("Highlight a section")),
        ]),
        PageCase("Climbs", "/climbs", True, [
            Interaction("climb picker: the next climb", _select_next("Climb"),
                        (".st-key-climb_efforts_chart", ""),
                        _select_prepare("Climb")),
        ]),
        PageCase("Compare rides", f"/compare?a={b}&b={a}", True, [
            Interaction("difference stream: next", _select_next("Stream"), (COMPARE_DELTA, ""),
                        _select_prepare("Stream")),
            Interaction("align by elapsed time", _radio("Elapsed time"), (COMPARE_STREAMS, "")),
        ]),
        PageCase("Coach", "/coach", False),  # its tabs switch in the browser, with no rerun
        PageCase("Plans", "/plans", True, [
            Interaction("calendar: Next ▶", _button("Next ▶"), ("table.vc-cal", "")),
            Interaction("calendar: Week", _radio("Week"), ("table.vc-cal", "")),
        ]),
        PageCase("Garmin Connect sync", "/garmin", False),
        PageCase("Settings", "/settings", False),
        PageCase("Backup", "/backup", False, [
            Interaction("format: JSON", _radio("json"), None),
        ]),
        PageCase("Health", "/health", False),
    ]


def open_drawn(context, url: str, case: PageCase, deadline_s: float = 300):
    """A new session (page) on ``url``, returned once the title and (if any) first chart are visible and nothing
    runs; and the seconds it took."""
    page = context.new_page()
    page.add_init_script(PROBE)
    start = time.perf_counter()
    page.goto(url, timeout=deadline_s * 1000)
    page.get_by_role("heading", name=case.title).first.wait_for(timeout=deadline_s * 1000)
    if case.chart:
        page.locator(CHART).first.wait_for(state="visible", timeout=deadline_s * 1000)
    page.locator(RUNNING).wait_for(state="hidden", timeout=deadline_s * 1000)
    return page, time.perf_counter() - start


def settle(page, timeout_s: float = 120) -> None:
    """Wait until no script runs and nothing is stale (a page's own follow-up reruns included)."""
    page.wait_for_function("""() => {
        const app = document.querySelector('[data-testid="stApp"]');
        return app && app.getAttribute('data-test-script-state') === 'notRunning'
               && !document.querySelector('[data-stale="true"]');
    }""", timeout=timeout_s * 1000)
    page.wait_for_timeout(300)


def time_interaction(page, interaction: Interaction, timeout_s: float = 120) -> float:
    if interaction.prepare:
        interaction.prepare(page)
    settle(page)
    t0 = page.evaluate("performance.now()")
    interaction.act(page)
    handle = page.wait_for_function(SETTLED, arg=[t0, RUNNING, list(interaction.expected or ()) or None],
                                    polling="raf", timeout=timeout_s * 1000)
    return float(handle.json_value()) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pages", default="", help="comma-separated url paths (dashboard is '/'); default: all")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "PYTHONPATH": str(ROOT), "VELOCOACH_SEED_DEMO": "0",
           "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "velocoach-bench-pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    ensure_database(args.db, env)
    import duckdb

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        db = Path(tmp) / "bench-10y.duckdb"
        shutil.copyfile(args.db, db)
        with duckdb.connect(str(db), read_only=True) as con:
            rides, samples = con.execute("SELECT (SELECT count(*) FROM rides), (SELECT count(*) FROM ride_samples)"
                                         ).fetchone()
            newest = [r[0] for r in con.execute("SELECT id FROM rides WHERE duplicate_of IS NULL "
                                                "ORDER BY started_at DESC LIMIT 2").fetchall()]
        app_env = {**env, "VELOCOACH_DB": str(db), "VELOCOACH_DATA_DIR": str(Path(tmp) / "files")}
        wanted = {p.strip().strip("/") for p in args.pages.split(",") if p.strip()}
        all_cases = cases(newest)
        dashboard = all_cases[0]
        chosen = [c for c in all_cases[1:] if not wanted or c.path.strip("/").split("?")[0] in wanted]
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                             args=["--no-sandbox", "--headless"])
        process, port = launch(["run", "app.py"], app_env)
        base = f"http://127.0.0.1:{port}"
        pages: dict[str, list[float]] = {}
        reruns: dict[str, list[float]] = {}
        try:
            def session(case: PageCase, interact: bool) -> None:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url
                              else route.abort())
                try:
                    page, seconds = open_drawn(context, base + case.path, case)
                    pages.setdefault(case.title, []).append(seconds)
                    for interaction in case.interactions if interact else ():
                        label = f"{case.title}: {interaction.label}"
                        try:
                            seconds = time_interaction(page, interaction)
                            reruns.setdefault(label, []).append(seconds)
                        except Exception as exc:  # noqa: BLE001 — one broken interaction is reported, not fatal
                            print(f"  ! {label}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}",
                                  flush=True)
                finally:
                    context.close()

            # Warm-up: the server starts, connects the database, imports every page's modules once.
            deadline = time.monotonic() + 300
            while True:
                try:
                    session(dashboard, False)
                    break
                except Exception:  # noqa: BLE001 — the server is still starting
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            for case in chosen:
                session(case, False)
            pages.clear()
            for round_no in range(args.rounds):
                session(dashboard, True)
                for case in chosen:
                    session(case, True)
                    print(f"  round {round_no + 1}: {case.title} {pages[case.title][-1]:.2f} s", flush=True)
                session(dashboard, False)
        finally:
            stop(process)
            browser.close()
    dash = statistics.median(pages[dashboard.title])
    print(f"\ndatabase: 10-year demo ({rides:,} rides, {samples / 1e6:.1f} M samples); {args.rounds} rounds, medians")
    print(f"\n{'new session':<26}{'s':>7}{'ratio':>8}  (goal ≤ {PAGE_GOAL_RATIO:g}× the Dashboard)")
    for title, values in pages.items():
        ratio = statistics.median(values) / dash
        flag = "" if ratio <= PAGE_GOAL_RATIO else "  above goal"
        print(f"{title:<26}{statistics.median(values):>7.2f}{ratio:>8.2f}{flag}")
    print(f"\n{'interaction rerun':<48}{'s':>7}  (goal ≤ {RERUN_GOAL_S:g} s)")
    for label, values in reruns.items():
        seconds = statistics.median(values)
        flag = "" if seconds <= RERUN_GOAL_S else "  above goal"
        print(f"{label:<48}{seconds:>7.2f}{flag}")


if __name__ == "__main__":
    main()
