"""Dashboard and compare benchmark: prints figures and ratios, asserts nothing.

    python bench/dashboard.py [--db PATH] [--years 10]

Without --db (or with a missing file) it builds a demo database first (``python -m core demo --years N``;
about 5,000 rides with 1 Hz samples for 10 years — that takes a while). Measured, in one run:

1. weekly + monthly totals + fitness (CTL/ATL/TSB) from the rides' summaries in DuckDB SQL (core.rides.dashboard),
   against what a notebook user would do: load the raw samples into pandas and group them by week and month
   (distance, moving time, climbing, normalised-power TSS per ride, then per period). Target ≥ 20×.
2. One dashboard AppTest run on that database (cold: empty cache; warm: cached by data version). Target ≤ 0.3 s.
3. Aligning two 6-hour 1 Hz rides by distance and by time (with smoothing). Target ≤ 0.2 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.rides.compare import align_streams, smooth_aligned  # noqa: E402
from core.rides.dashboard import fitness, period_totals  # noqa: E402
from core.store.db import connect  # noqa: E402


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def ensure_demo(db_path: Path, years: float) -> None:
    if db_path.exists():
        return
    db_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"building the demo database ({years:g} years) at {db_path} …", flush=True)
    start = time.perf_counter()
    # 10 rides a week (training plus commutes): a decade is then ~5,200 rides, the scale the issue asks for.
    subprocess.run([sys.executable, "-m", "core", "--db", str(db_path), "demo", "--years", str(years),
                    "--rides-per-week", "10", "--json"],
                   cwd=ROOT, check=True)
    print(f"  built in {time.perf_counter() - start:.0f} s")


def sql_aggregates(cur, athlete_id: int) -> None:
    period_totals(cur, athlete_id, "week", by_sport=True)
    period_totals(cur, athlete_id, "month", by_sport=True)
    fitness(cur, athlete_id)


def pandas_over_samples(cur, athlete_id: int, ftp_w: float) -> pd.DataFrame:
    """The notebook way: every sample into pandas, per-ride figures by groupby, then per week and month."""
    samples = cur.execute(
        "SELECT s.ride_id, r.started_at, s.t_s, s.dist_m, s.ele, s.speed, s.power FROM ride_samples s "
        "JOIN rides r ON r.id = s.ride_id WHERE r.athlete_id = ? AND r.duplicate_of IS NULL",
        [athlete_id]).df()
    samples = samples.sort_values(["ride_id", "t_s"])
    grouped = samples.groupby("ride_id", sort=False)
    samples["climb"] = grouped["ele"].diff().clip(lower=0)
    samples["moving"] = (samples["speed"] > 0.5).astype(float)
    samples["p30"] = grouped["power"].transform(lambda p: p.rolling(30, min_periods=1).mean()) ** 4
    per_ride = samples.groupby("ride_id").agg(
        started_at=("started_at", "first"), distance_m=("dist_m", "max"), moving_time_s=("moving", "sum"),
        elevation_gain_m=("climb", "sum"), p30=("p30", "mean"), duration_s=("t_s", "max"))
    np_w = per_ride["p30"] ** 0.25
    per_ride["tss"] = per_ride["duration_s"] * np_w * (np_w / ftp_w) / (ftp_w * 3600) * 100
    day = pd.to_datetime(per_ride["started_at"]).dt.tz_localize(None)
    weekly = per_ride.groupby(day.dt.to_period("W")).agg(rides=("distance_m", "size"), distance_m=("distance_m", "sum"),
                                                        moving_time_s=("moving_time_s", "sum"),
                                                        elevation_gain_m=("elevation_gain_m", "sum"), tss=("tss", "sum"))
    per_ride.groupby(day.dt.to_period("M"))[["distance_m", "moving_time_s", "elevation_gain_m", "tss"]].sum()
    daily = per_ride.groupby(day.dt.floor("D"))["tss"].sum().asfreq("D", fill_value=0)
    daily.ewm(alpha=1 - np.exp(-1 / 42), adjust=False).mean()
    return weekly


def six_hour_ride(seed: int, speed_scale: float) -> dict:
    rng = np.random.default_rng(seed)
    n = 6 * 3600
    speed = np.clip(8.5 * speed_scale + rng.normal(0, 1.0, n).cumsum() * 0.01, 2, 18)
    dist = np.cumsum(speed)
    return {"t_s": np.arange(n, dtype=float), "dist_m": dist, "speed": speed,
            "power": np.clip(rng.normal(200, 60, n), 0, None), "hr": rng.normal(140, 8, n),
            "cadence": rng.normal(88, 6, n), "ele": 300 + 200 * np.sin(dist / 8000)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "demo10.duckdb")
    parser.add_argument("--years", type=float, default=10)
    args = parser.parse_args()
    ensure_demo(args.db, args.years)

    db = connect(args.db)
    cur = db.cursor()
    athlete_id, ftp = cur.execute("SELECT id, coalesce(ftp_w, 250) FROM athletes ORDER BY id LIMIT 1").fetchone()
    rides, samples = cur.execute("SELECT count(*), (SELECT count(*) FROM ride_samples) FROM rides "
                                 "WHERE athlete_id = ? AND duplicate_of IS NULL", [athlete_id]).fetchone()
    print(f"database: {args.db} — {rides:,} rides, {samples:,} samples")

    # 1. SQL over summaries vs pandas over samples, same run
    sql_s = best_of(lambda: sql_aggregates(cur, athlete_id), 5)
    pandas_s = best_of(lambda: pandas_over_samples(cur, athlete_id, ftp), 1)
    print(f"weekly+monthly+fitness, DuckDB SQL over ride summaries: {sql_s * 1000:8.1f} ms")
    print(f"same figures, pandas groupby over raw samples:         {pandas_s * 1000:8.1f} ms")
    print(f"  ratio: {pandas_s / sql_s:.0f}x faster (target >= 20x)")
    db.close()

    # 2. dashboard AppTest run on that database
    os.environ["VELOCOACH_DB"] = str(args.db)
    os.environ["VELOCOACH_SEED_DEMO"] = "0"
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    page = str(ROOT / "app_pages" / "dashboard_page.py")

    def timed_run(app) -> float:
        start = time.perf_counter()
        app.run()
        if app.exception:
            print("  EXCEPTION:", [e.value for e in app.exception])
        return time.perf_counter() - start

    first = timed_run(at := AppTest.from_file(page, default_timeout=120))  # includes importing plotly & co
    rerun = timed_run(at)
    st.cache_data.clear()
    st.cache_resource.clear()
    cold = timed_run(AppTest.from_file(page, default_timeout=120))
    warm = timed_run(AppTest.from_file(page, default_timeout=120))
    print(f"dashboard AppTest run: first in process (imports) {first:.3f} s; empty caches {cold:.3f} s; "
          f"new session, warm cache {warm:.3f} s; rerun (widget change) {rerun:.3f} s (target <= 0.3 s)")
    db = connect(args.db)
    from core.rides.dashboard import dashboard_data

    data_s = best_of(lambda: dashboard_data(db.cursor(), athlete_id), 3)
    print(f"  of which dashboard_data() (every panel's SQL, uncached): {data_s * 1000:.0f} ms")
    db.close()

    # 3. aligning two 6-hour rides
    a, b = six_hour_ride(1, 1.0), six_hour_ride(2, 0.93)
    by_distance = best_of(lambda: smooth_aligned(align_streams([a, b], "distance"), 100))
    by_time = best_of(lambda: smooth_aligned(align_streams([a, b], "time"), 10))
    print(f"align two 6-hour 1 Hz rides: by distance + 100 m smoothing {by_distance * 1000:.1f} ms, "
          f"by time + 10 s smoothing {by_time * 1000:.1f} ms (target <= 200 ms)")


if __name__ == "__main__":
    main()
