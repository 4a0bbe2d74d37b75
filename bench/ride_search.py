"""Filtered ride search over 10,000 rides (target ≤ 50 ms) against a scan of their samples.

    python bench/ride_search.py [--rides 10000] [--samples-per-ride 300]

Rides and samples are generated in SQL (deterministic). Prints the median of repeated runs; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.athletes import AthleteProfile, create_athlete  # noqa: E402
from core.rides.store import RideFilter, add_tag, search_rides  # noqa: E402
from core.store.db import connect  # noqa: E402


def timed(fn, repeat: int = 21) -> float:
    fn()  # warm
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rides", type=int, default=10_000)
    parser.add_argument("--samples-per-ride", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "bench.duckdb")
        cur = db.cursor()
        athlete = create_athlete(cur, AthleteProfile(name="Bench", ftp_w=250))
        t0 = time.perf_counter()
        cur.execute(
            "INSERT INTO rides (athlete_id, source, external_id, name, sport_type, started_at, elapsed_time_s, "
            "moving_time_s, distance_m, avg_hr, avg_power_w, normalized_power_w, tss, load_method) "
            "SELECT ?, 'demo', 'bench-' || i, 'Ride ' || i || CASE WHEN i % 7 = 0 THEN ' hills' ELSE '' END, "
            "CASE WHEN i % 20 = 0 THEN 'running' WHEN i % 5 = 0 THEN 'indoor_cycling' ELSE 'cycling' END, "
            "TIMESTAMPTZ '2015-01-01 07:00:00+00' + i * INTERVAL 9 HOUR, 1800 + (i * 37) % 14400, "
            "1700 + (i * 37) % 14000, 10000 + (i * 7919) % 140000, 110 + (i * 13) % 60, 120 + (i * 17) % 180, "
            "130 + (i * 17) % 190, 20 + (i * 11) % 250, 'power' FROM range(?) t(i)", [athlete, args.rides])
        ids = [r[0] for r in cur.execute("SELECT id FROM rides ORDER BY id").fetchall()]
        cur.execute(
            "INSERT INTO ride_samples (ride_id, t_s, hr, power, speed) SELECT r.id, s.i, "
            "(110 + (r.id + s.i) % 70)::SMALLINT, (100 + (r.id * 7 + s.i) % 300)::SMALLINT, 8 "
            "FROM rides r, range(?) s(i)", [args.samples_per_ride])
        add_tag(cur, athlete, ids[::10], "race")
        samples = cur.execute("SELECT count(*) FROM ride_samples").fetchone()[0]
        print(f"generated {len(ids):,} rides and {samples:,} samples in {time.perf_counter() - t0:.1f} s")

        cases = {
            "default list (cycling, newest first)": (RideFilter(), "started_at"),
            "date + distance + power + HR, by TSS": (RideFilter(date_from=date(2016, 1, 1), date_to=date(2019, 12, 31),
                                                                 min_distance_km=40, min_power_w=180, max_hr=160),
                                                     "tss"),
            "tag 'race' + name contains 'hills'": (RideFilter(tag="race", text="hills"), "started_at"),
            "page 150 of everything, by distance": (RideFilter(sport="all"), "distance_m"),
        }
        for label, (flt, sort) in cases.items():
            page = 150 if "page 150" in label else 1
            ms = timed(lambda flt=flt, sort=sort, page=page: search_rides(cur, athlete, flt, sort=sort, page=page,
                                                                          page_size=50))
            _, total = search_rides(cur, athlete, flt, sort=sort)
            print(f"search  {label:<40} {ms:7.1f} ms  ({total:,} matches)")
        scan = timed(lambda: cur.execute(
            "SELECT ride_id, avg(power), avg(hr) FROM ride_samples GROUP BY ride_id "
            "HAVING avg(power) >= 180 AND avg(hr) <= 160 ORDER BY ride_id LIMIT 50").fetchall(), repeat=5)
        base = timed(lambda: search_rides(cur, athlete, cases["date + distance + power + HR, by TSS"][0], sort="tss"))
        print(f"scan of samples (same power/HR filter)           {scan:7.1f} ms")
        print(f"filtered search / sample scan: {base / scan:.3f}  (target: search ≤ 50 ms)")
        db.close()


if __name__ == "__main__":
    main()
