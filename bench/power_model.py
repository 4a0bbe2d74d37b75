"""Power-model benchmark: prints figures and ratios, asserts nothing.

    python bench/power_model.py [--db PATH] [--years 10] [--skip-demo]

1. Recovery: CP and W′ from synthetic rides — maximal efforts on a known curve (Morton CP 280 W, W′ 20 kJ,
   Pmax 1,000 W; and a 2-parameter curve) mixed with submaximal rides (endurance, intervals with recoveries,
   a short effort padded with easy riding), day-to-day form ±2 % and pedalling noise — through the same code as
   the app (metrics.power_series → best efforts → core.rides.power.fit_power_model). Goal: CP within 3 %, W′
   within 15 %.
2. sweat: on the real power files of tests/data, sweat 0.25.0's mean_max and PowerDurationRegressor
   (2-parameter, 120–1200 s) against ours on the same window. sweat runs in the research venv
   (/work/research/power/sweatvenv, numpy < 2, pandas 1.5) when present; skipped with a note otherwise.
3. Time over a 10-year demo (``python -m core demo --years 10 --rides-per-week 10`` into a temp db unless --db):
   the MMP backfill of every ride, the model for the default window and for the whole decade, and a ride's W′
   balance, as ratios against the Rides page's first-page query measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.files.fit import read_fit  # noqa: E402
from core.rides import power  # noqa: E402
from core.rides.metrics import best_efforts, power_series  # noqa: E402

SWEAT_PYTHON = Path("/work/research/power/sweatvenv/bin/python")
REAL_FILES = ["fitparse__Edge810-Vector-2013-08-16-15-35-10.fit", "fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit",
              "gc__Garmin830_with_Stages.fit", "gc__Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit",
              "sweatpy__4078723797.fit"]
FIT_DURATIONS = [d for d in power.MMP_DURATIONS_S if 120 <= d <= 1200]


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


# ------------------------------------------------------------------------------------------- 1. recovery


def synthetic_ride(rng, curve, efforts, minutes=90, kind="test") -> np.ndarray:
    """1 Hz power: easy riding, then the ride's efforts. 'test': all-out efforts on ``curve`` (form ±2 %);
    'intervals': 5 × 4 min at 105 % of the curve's 20-min power with 4 min easy; 'padded': one 3-min effort at
    90 % of the curve in an hour of tempo; 'endurance': 65 % of CP with climbs."""
    n = minutes * 60
    cp = curve(3600.0) * 0.97
    watts = 0.6 * cp + lfilter_noise(rng, n, 0.06 * cp)
    if kind == "test":
        form = rng.normal(1.0, 0.02)
        at = 900
        for seconds in efforts:
            watts[at:at + seconds] = curve(seconds) * form + lfilter_noise(rng, seconds, 0.04 * cp)
            at += seconds + 600
    elif kind == "intervals":
        for k in range(5):
            start = 900 + k * 480
            watts[start:start + 240] = 1.05 * curve(1200)
    elif kind == "padded":
        watts[1200:4800] = 0.85 * cp
        watts[2000:2180] = 0.90 * curve(180)
    else:
        climbs = (np.sin(np.arange(n) / 400.0) > 0.7)
        watts = np.where(climbs, 0.85 * cp, 0.65 * cp) + lfilter_noise(rng, n, 0.08 * cp)
    return np.clip(watts, 0, None)


def lfilter_noise(rng, n, scale):
    from scipy.signal import lfilter

    return lfilter([0.25], [1, -0.75], rng.normal(0, scale / 0.378, n))


def window_efforts(rides: list[np.ndarray]) -> list[power.Effort]:
    best: dict[int, power.Effort] = {}
    for ride_id, watts in enumerate(rides):
        timeline = power_series(np.arange(len(watts), dtype=float), watts).timeline
        efforts = best_efforts(timeline, power.MMP_DURATIONS_S)
        floors = power.effort_floors(timeline, efforts)
        for d, (w, start) in efforts.items():
            if d not in best or w > best[d].power_w:
                best[d] = power.Effort(d, w, ride_id, date(2025, 6, 1), start, floors.get(d))
    return [best[d] for d in sorted(best)]


def recovery(seeds: int = 20) -> None:
    print("1. CP/W′ recovery from synthetic maximal efforts mixed with submaximal rides and noise")
    cases = {
        "Morton, with sprints": (lambda t: float(power.morton3_power(t, 280, 20000, 1000)),
                                 [[10, 180, 720], [5, 300, 1200], [15, 480, 900], [240, 600]]),
        "Morton, no sprints": (lambda t: float(power.morton3_power(t, 280, 20000, 1000)),
                               [[180, 720], [300, 1200], [480, 900]]),
        "2-parameter curve": (lambda t: float(power.cp2_power(t, 280, 20000)), [[180, 720], [300, 1200]]),
        "2 tests only (5 + 20 min)": (lambda t: float(power.morton3_power(t, 280, 20000, 1000)), [[300], [1200]]),
    }
    print(f"   {'case':<28} {'CP err % (mean, worst)':>24} {'W′ err % (mean, worst)':>24}  fits  within goal")
    for name, (curve, tests) in cases.items():
        cp_err, w_err, fits, within = [], [], 0, 0
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            rides = [synthetic_ride(rng, curve, efforts) for efforts in tests]
            rides += [synthetic_ride(rng, curve, [], kind=k) for k in ("intervals", "padded", "endurance") * 4]
            model = power.fit_power_model(window_efforts(rides), lambda day: 280.0)
            if not model.ok:
                continue
            fits += 1
            cp_err.append((model.cp_w / 280 - 1) * 100)
            w_err.append((model.w_prime_j / 20000 - 1) * 100)
            within += abs(cp_err[-1]) <= 3 and abs(w_err[-1]) <= 15
        if not fits:
            print(f"   {name:<28} no fit in {seeds} seeds")
            continue
        print(f"   {name:<28} {np.mean(cp_err):+10.1f} {max(cp_err, key=abs):+10.1f}   "
              f"{np.mean(w_err):+10.1f} {max(w_err, key=abs):+10.1f}   {fits:>3}/{seeds}  {within}/{fits}")
    rng = np.random.default_rng(0)
    curve = cases["Morton, with sprints"][0]
    easy_only = [synthetic_ride(rng, curve, [], kind=k) for k in ("intervals", "padded", "endurance") * 4]
    model = power.fit_power_model(window_efforts(easy_only), lambda day: 280.0)
    print(f"   submaximal rides only: fit={model.ok}; missing: {'; '.join(model.missing)[:110]}…")


# ------------------------------------------------------------------------------------------- 2. sweat

SWEAT_SCRIPT = """
import json, sys
import numpy as np
import sweat
from sweat.pdm.regressors import PowerDurationRegressor
out = {}
for path in sys.argv[1:]:
    df = sweat.read_fit(path, resample=True, interpolate=True)
    p = df["power"].fillna(0).to_numpy()
    mm = sweat.metrics.core.mean_max(p)
    durations = [d for d in %s if d <= len(mm)]
    y = np.array([mm[d - 1] for d in durations])
    reg = PowerDurationRegressor(model="2 param")
    reg.fit(np.array(durations).reshape(-1, 1), y)
    out[path] = {"mmp": dict(zip(map(str, durations), y.tolist())), "cp": float(reg.cp_), "w_prime": float(reg.w_prime_)}
print(json.dumps(out))
"""


def sweat_comparison() -> None:
    print("\n2. sweat 0.25.0 vs ours on the real power files (2-parameter least squares on MMP 120–1200 s)")
    paths = [p for name in REAL_FILES for p in (ROOT / "tests/data/rides" / name, ROOT / "tests/data/garmin" / name)
             if p.exists()]
    paths = list({p.name: p for p in reversed(paths)}.values())
    if not SWEAT_PYTHON.exists():
        print(f"   skipped: no sweat venv at {SWEAT_PYTHON} (sweat needs numpy < 2 and pandas < 2, so it is not a "
              "VeloCoach dependency)")
        return
    start = time.perf_counter()
    result = subprocess.run([str(SWEAT_PYTHON), "-c", SWEAT_SCRIPT % FIT_DURATIONS, *map(str, paths)],
                            capture_output=True, text=True, timeout=600)
    sweat_s = time.perf_counter() - start
    if result.returncode != 0:
        print(f"   skipped: sweat failed ({result.stderr.strip().splitlines()[-1][:120]})")
        return
    theirs = json.loads(result.stdout)
    start = time.perf_counter()
    print(f"   {'file':<44} {'MMP max diff W':>14} {'CP sweat':>9} {'CP ours':>8} {'W′ sweat':>9} {'W′ ours':>8}"
          "  our model (rules)")
    for path in paths:
        s = read_fit(path.read_bytes(), path.name)
        series = power_series(s.t_s, s.power, s.lat, s.lon, "fix_gaps")  # sweat interpolates every gap
        best = best_efforts(series.timeline, FIT_DURATIONS)
        durations = [d for d in FIT_DURATIONS if str(d) in theirs[str(path)]["mmp"] and d in best]
        ours_mmp = [best[d][0] for d in durations]
        diff = max(abs(a - theirs[str(path)]["mmp"][str(d)]) for a, d in zip(ours_mmp, durations, strict=True))
        cp, w_prime = power.fit_cp2(durations, ours_mmp)
        every = best_efforts(series.timeline, power.MMP_DURATIONS_S)
        floors = power.effort_floors(series.timeline, every)
        efforts = [power.Effort(d, w, 1, date(2025, 1, 1), st, floors.get(d)) for d, (w, st) in every.items()]
        model = power.fit_power_model(efforts)
        verdict = f"CP {model.cp_w:.0f} W" if model.ok else "no fit: " + "; ".join(model.missing + model.problems)
        t = theirs[str(path)]
        print(f"   {path.name[:44]:<44} {diff:14.2f} {t['cp']:9.1f} {cp:8.1f} {t['w_prime']:9.0f} {w_prime:8.0f}"
              f"  {verdict[:60]}")
    print(f"   time: sweat {sweat_s:.1f} s (reading + O(n²) mean_max), ours {time.perf_counter() - start:.1f} s "
          "(reading + MMP + fits)")


# ------------------------------------------------------------------------------------------- 3. timing


def timing(db_path: Path | None, years: float) -> None:
    from core.rides import powerstore
    from core.rides.store import RideFilter, get_ride, search_rides, streams_from_samples
    from core.store.db import connect
    from core.views.powerview import ride_w_prime

    print(f"\n3. Time over a {years:g}-year demo at 10 rides a week")
    if db_path is None or not db_path.exists():
        db_path = db_path or Path(tempfile.mkdtemp()) / "power_bench.duckdb"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "core", "--db", str(db_path), "demo", "--years", str(years),
                        "--rides-per-week", "10", "--json"], cwd=ROOT, check=True, capture_output=True)
        print(f"   demo built in {time.perf_counter() - start:.0f} s at {db_path}")
    db = connect(db_path)
    cur = db.cursor()
    athlete_id = cur.execute("SELECT min(id) FROM athletes").fetchone()[0]
    rides, mmp_rows = cur.execute("SELECT (SELECT count(*) FROM rides), (SELECT count(*) FROM ride_mmp)").fetchone()
    print(f"   {rides} rides, {mmp_rows} ride_mmp rows")
    baseline = best_of(lambda: search_rides(cur, athlete_id, RideFilter(), page_size=50))
    print(f"   baseline: the Rides page's first page (search_rides)     {baseline * 1000:8.1f} ms")
    _, last = powerstore.default_window(cur, athlete_id)
    measures = {
        "power model, default 90-day window": lambda: powerstore.power_report(cur, athlete_id),
        f"power model, all {years:g} years": lambda: powerstore.power_report(
            cur, athlete_id, date_from=last - timedelta(days=int(365 * years)), date_to=last),
        "window MMP SQL alone (90 days)": lambda: powerstore.window_mmp(cur, athlete_id, last - timedelta(days=89),
                                                                        last),
    }
    ride_id = cur.execute("SELECT id FROM rides WHERE name LIKE 'Long ride%' ORDER BY started_at DESC LIMIT 1"
                          ).fetchone()[0]
    ride = get_ride(cur, athlete_id, ride_id)
    measures["W′ balance of a long ride (Ride page)"] = lambda: ride_w_prime(
        cur, athlete_id, ride, streams_from_samples(cur, ride_id))
    for label, fn in measures.items():
        seconds = best_of(fn)
        print(f"   {label:<52} {seconds * 1000:8.1f} ms  {seconds / baseline:6.1f}× baseline")
    cur.execute("DELETE FROM ride_mmp")
    start = time.perf_counter()
    filled = powerstore.ensure_ride_mmp(cur, athlete_id)
    seconds = time.perf_counter() - start
    print(f"   MMP backfill of {filled} rides (first Power page visit after the upgrade) {seconds:8.1f} s  "
          f"{seconds / filled * 1000:.1f} ms a ride, {seconds / filled / baseline:.1f}× baseline a ride")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an existing demo database (default: build one in a temp folder)")
    parser.add_argument("--years", type=float, default=10.0)
    parser.add_argument("--skip-demo", action="store_true", help="only the recovery and sweat parts")
    args = parser.parse_args()
    recovery()
    sweat_comparison()
    if not args.skip_demo:
        timing(args.db, args.years)


if __name__ == "__main__":
    main()
