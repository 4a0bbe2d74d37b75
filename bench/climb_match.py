"""Matching one new ride against the known climbs of 5,000 rides (goal: under 0.2 s), against a brute-force scan
of every climb measured in the same run.

    python bench/climb_match.py [--rides 5000] [--climbs-per-ride 3] [--repeat 5]

The climbs (3 per ride by default, all distinct: the worst case, real rides share most climbs) are spread over a
region of ~170 × 120 km around the new ride's 100 km loop; a few lie on the loop so real efforts are found.
Prints the median times, the ratio and the efforts both methods found (they must agree); asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.athletes import AthleteProfile, create_athlete  # noqa: E402
from core.rides.efforts import known_passages  # noqa: E402
from core.routes.climb_match import Track, climb_shape, find_passages  # noqa: E402
from core.store.db import connect  # noqa: E402

LAT0, LON0 = 45.0, 6.0
M_PER_DEG = 111_320.0


def loop_track(length_m: float = 100_000.0, speed_ms: float = 7.0) -> Track:
    """A 1 Hz ride around a wobbly loop of ``length_m``."""
    t = np.arange(0.0, length_m / speed_ms)
    d = t * speed_ms
    angle = d / length_m * 2 * math.pi
    radius = length_m / (2 * math.pi) * (1 + 0.15 * np.sin(5 * angle))
    lat = LAT0 + radius * np.sin(angle) / M_PER_DEG
    lon = LON0 + radius * (np.cos(angle) - 1) / (M_PER_DEG * math.cos(math.radians(LAT0)))
    return Track.of(lat, lon, d, t)


def random_shapes(count: int, rng: np.random.Generator) -> list[np.ndarray]:
    shapes = []
    for _ in range(count):
        lat = LAT0 + rng.uniform(-0.75, 0.75)
        lon = LON0 + rng.uniform(-1.1, 1.1)
        length = rng.uniform(800, 8000)
        heading = rng.uniform(0, 2 * math.pi)
        d = np.append(np.arange(0, length, 20.0), length)
        bend = heading + 0.4 * np.sin(d / 700.0)
        step = np.diff(d, prepend=0.0)
        y = np.cumsum(step * np.cos(bend))
        x = np.cumsum(step * np.sin(bend))
        shapes.append(np.column_stack((lat + y / M_PER_DEG, lon + x / (M_PER_DEG * math.cos(math.radians(lat))))))
    return shapes


def insert_climbs(cur, athlete: int, shapes: list[np.ndarray]) -> None:
    length = [float(len(s) * 20) for s in shapes]
    table = pa.table({
        "athlete_id": [athlete] * len(shapes), "name": [f"Climb {i}" for i in range(len(shapes))],
        "length_m": length, "gain_m": [x * 0.06 for x in length], "avg_grade_pct": [6.0] * len(shapes),
        "start_lat": [s[0, 0] for s in shapes], "start_lon": [s[0, 1] for s in shapes],
        "end_lat": [s[-1, 0] for s in shapes], "end_lon": [s[-1, 1] for s in shapes],
        "min_lat": [s[:, 0].min() for s in shapes], "min_lon": [s[:, 1].min() for s in shapes],
        "max_lat": [s[:, 0].max() for s in shapes], "max_lon": [s[:, 1].max() for s in shapes],
        "shape": [json.dumps(np.round(s, 6).tolist()) for s in shapes]})
    cur.register("bench_climbs", table)
    cur.execute("INSERT INTO climbs (athlete_id, name, origin, length_m, gain_m, avg_grade_pct, start_lat, "
                "start_lon, end_lat, end_lon, min_lat, min_lon, max_lat, max_lon, shape) SELECT athlete_id, name, "
                "'ride', length_m, gain_m, avg_grade_pct, start_lat, start_lon, end_lat, end_lon, min_lat, min_lon, "
                "max_lat, max_lon, shape::JSON FROM bench_climbs")
    cur.unregister("bench_climbs")


def brute_force(cur, athlete: int, track: Track) -> int:
    """Every known climb through the matcher: no SQL prefilter, no cell filter."""
    found = 0
    for length, shape in cur.execute("SELECT length_m, shape FROM climbs WHERE athlete_id = ?", [athlete]).fetchall():
        found += len(find_passages(track, np.asarray(json.loads(shape)).reshape(-1, 2), length))
    return found


def median_s(fn, repeat: int) -> tuple[float, int]:
    result = fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rides", type=int, default=5000)
    parser.add_argument("--climbs-per-ride", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    track = loop_track()
    on_loop = [climb_shape(track.lat, track.lon, track.dist_m, start, start + rng.uniform(1000, 4000))
               for start in np.linspace(5_000, 85_000, 8)]
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "bench.duckdb")
        cur = db.cursor()
        athlete = create_athlete(cur, AthleteProfile(name="Bench", ftp_w=250))
        t0 = time.perf_counter()
        insert_climbs(cur, athlete, random_shapes(args.rides * args.climbs_per_ride - len(on_loop), rng) + on_loop)
        count = cur.execute("SELECT count(*) FROM climbs").fetchone()[0]
        print(f"{count:,} known climbs of {args.rides:,} rides stored in {time.perf_counter() - t0:.1f} s; "
              f"new ride: {len(track.t_s):,} samples over {track.dist_m[-1] / 1000:.0f} km")
        fast_s, fast = median_s(lambda: sum(len(p) for _, p in known_passages(cur, athlete, track)), args.repeat)
        slow_s, slow = median_s(lambda: brute_force(cur, athlete, track), max(1, args.repeat // 2))
        print(f"prefiltered matching (SQL bounding box + track cells + matcher): {fast_s * 1000:8.1f} ms, "
              f"{fast} efforts   goal < 200 ms: {'met' if fast_s < 0.2 else 'MISSED'}")
        print(f"brute-force scan of every climb (baseline):                    {slow_s * 1000:8.1f} ms, "
              f"{slow} efforts")
        print(f"ratio baseline / prefiltered: {slow_s / fast_s:.0f}x; both found the same efforts: {fast == slow}")
        db.close()


if __name__ == "__main__":
    main()
