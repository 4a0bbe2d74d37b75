"""Import of 200 generated rides: rides per second through core.importer vs parsing alone.

    python bench/ride_import.py [--rides 200] [--seconds 3600]

Each ride is a deterministic timed GPX (1 Hz, hr/cad/power extensions) written here. Prints figures and the
ratio import/parse measured in this run; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.athletes import AthleteProfile, create_athlete  # noqa: E402
from core.files.gpx import read_gpx  # noqa: E402
from core.importer import import_file  # noqa: E402
from core.store.db import connect  # noqa: E402


def generate_gpx(index: int, seconds: int) -> bytes:
    rng = np.random.default_rng(index)
    start = datetime(2023, 1, 1, 7, tzinfo=UTC) + timedelta(days=index)
    speed = np.clip(8 + np.cumsum(rng.normal(0, 0.05, seconds)), 2, 15)
    dist = np.cumsum(speed)
    heading = np.cumsum(rng.normal(0, 0.01, seconds))
    lat = 41.9 + np.cumsum(speed * np.cos(heading)) / 111_000
    lon = 2.8 + np.cumsum(speed * np.sin(heading)) / 83_000
    ele = 100 + 50 * np.sin(dist / 3000)
    power = np.clip(200 + rng.normal(0, 40, seconds), 0, None).round()
    hr = np.clip(140 + np.cumsum(rng.normal(0, 0.2, seconds)), 90, 185).round()
    cad = np.clip(88 + rng.normal(0, 5, seconds), 0, None).round()
    points = []
    for i in range(seconds):
        when = (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        points.append(
            f'<trkpt lat="{lat[i]:.6f}" lon="{lon[i]:.6f}"><ele>{ele[i]:.1f}</ele><time>{when}</time>'
            f"<extensions><power>{power[i]:.0f}</power><gpxtpx:TrackPointExtension><gpxtpx:hr>{hr[i]:.0f}"
            f"</gpxtpx:hr><gpxtpx:cad>{cad[i]:.0f}</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions>"
            "</trkpt>")
    return ('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="bench" '
            'xmlns="http://www.topografix.com/GPX/1/1" '
            'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
            f"<trk><name>Bench ride {index}</name><type>cycling</type><trkseg>{''.join(points)}</trkseg></trk>"
            "</gpx>").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rides", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=3600)
    args = parser.parse_args()
    t0 = time.perf_counter()
    files = [(f"bench_{i:04d}.gpx", generate_gpx(i, args.seconds)) for i in range(args.rides)]
    print(f"generated {len(files)} rides × {args.seconds} s ({sum(len(d) for _, d in files) / 1e6:.0f} MB) "
          f"in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    for name, data in files:
        read_gpx(data, name)
    parse_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "bench.duckdb")
        cur = db.cursor()
        athlete_id = create_athlete(cur, AthleteProfile(name="Bench", ftp_w=250, lthr=165, max_hr=190))
        t0 = time.perf_counter()
        for name, data in files:
            import_file(cur, athlete_id, name, data)
        import_s = time.perf_counter() - t0
        samples = cur.execute("SELECT count(*) FROM ride_samples").fetchone()[0]
        db.close()
    print(f"parse only : {parse_s:7.2f} s  {args.rides / parse_s:6.1f} rides/s")
    print(f"full import: {import_s:7.2f} s  {args.rides / import_s:6.1f} rides/s  ({samples:,} samples stored)")
    print(f"import / parse time ratio: {import_s / parse_s:.2f}  "
          f"(storage + metrics + route/sections cost {(import_s - parse_s) / args.rides * 1000:.0f} ms per ride)")


if __name__ == "__main__":
    main()
