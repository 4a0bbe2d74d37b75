"""Benchmark: GPX import of a 250k-point timed ride vs gpxpy.parse, and the map payload. Prints; asserts nothing.

    python bench/gpx_import.py [--points 250000] [--keep DIR]

Every figure comes from this one run, each measured in a fresh subprocess (peak RSS from wait4):
  * bare interpreter, and the interpreter with VeloCoach's imports (numpy, pandas, duckdb, …) as baselines;
  * the command line's baseline: ``python -m core --db NEW athletes`` (start, a new database created and migrated,
    one query) — what any command costs before it reads a file;
  * ``python -m core import FILE --json`` (read, ride metrics, samples, recorded route and sections, stored);
  * ``core.files.gpx.read_gpx`` alone, and ``gpxpy.parse`` of the same file.
Targets (issue 3): import ≤ 0.4× gpxpy.parse time; map HTML ≤ 300 KB; (issue 17) ≤ 150 MiB peak above the
command line's baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write_ride(path: Path, n: int, seed: int = 3) -> None:
    """A deterministic 1 Hz ride: a wandering loop with rolling climbs, hr/cadence/power in extensions."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    heading = np.cumsum(rng.normal(0, 0.02, n))
    speed = 8 + 2 * np.sin(t / 900)                      # m/s
    lat = 45.0 + np.cumsum(speed * np.cos(heading)) / 111_000
    lon = 6.0 + np.cumsum(speed * np.sin(heading)) / (111_000 * np.cos(np.radians(45)))
    ele = 400 + 250 * np.sin(t / 1800) + 60 * np.sin(t / 240) + rng.normal(0, 0.5, n)
    hr = (135 + 20 * np.sin(t / 1800)).astype(int)
    cad = (88 + 6 * np.sin(t / 60)).astype(int)
    power = np.clip(210 + 60 * np.sin(t / 1800) + rng.normal(0, 25, n), 0, None).astype(int)
    start = np.datetime64("2024-05-01T06:00:00")
    stamps = np.datetime_as_string(start + t.astype("timedelta64[s]"), unit="s")
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="VeloCoach bench" '
                  'xmlns="http://www.topografix.com/GPX/1/1" '
                  'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n'
                  '<trk><name>Bench ride</name><type>cycling</type><trkseg>\n')
        for i in range(0, n, 10_000):
            out.write("".join(
                f'<trkpt lat="{lat[j]:.7f}" lon="{lon[j]:.7f}"><ele>{ele[j]:.1f}</ele><time>{stamps[j]}Z</time>'
                f'<extensions><power>{power[j]}</power><gpxtpx:TrackPointExtension><gpxtpx:hr>{hr[j]}</gpxtpx:hr>'
                f'<gpxtpx:cad>{cad[j]}</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>\n'
                for j in range(i, min(i + 10_000, n))))
        out.write("</trkseg></trk>\n</gpx>\n")


def measure_child(argv: list[str], env: dict | None = None) -> tuple[float, float, str, float]:
    """(wall s, peak RSS MiB of that child alone, "" or "failed", CPU s); output discarded. CPU time is the
    steadier figure on a shared machine; both are printed."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execvpe(argv[0], argv, env or os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    return (wall, usage.ru_maxrss / 1024, "" if os.waitstatus_to_exitcode(status) == 0 else "failed",
            usage.ru_utime + usage.ru_stime)


def timed_python(code: str, env: dict | None = None) -> tuple[float, float, float]:
    """Run Python code that writes {"seconds", "cpu"} of its timed part to OUT; returns (s, peak MiB, cpu s)."""
    out_file = tempfile.NamedTemporaryFile("r", suffix=".json", delete=False)
    measure_child([sys.executable, "-c", code.replace("OUT", out_file.name)], env)
    result = json.loads(Path(out_file.name).read_text())
    os.unlink(out_file.name)
    _, rss, _, _ = measure_child([sys.executable, "-c", code.replace("OUT", os.devnull)], env)
    return result["seconds"], rss, result["cpu"]


TIMED = ("import time, json{extra}; d = open({path!r}, {mode}).read(); t = time.perf_counter(); "
         "c = time.process_time(); {call}; json.dump({{'seconds': time.perf_counter() - t, "
         "'cpu': time.process_time() - c}}, open('OUT', 'w'))")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=250_000)
    parser.add_argument("--keep", type=Path, help="keep the generated file and database in this folder")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="velocoach-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    gpx = work / "bench_ride.gpx"
    db = work / "bench.duckdb"
    if db.exists():
        db.unlink()
    write_ride(gpx, args.points)
    size_mb = gpx.stat().st_size / 1048576
    env = {**os.environ, "VELOCOACH_SEED_DEMO": "0", "VELOCOACH_MAX_UPLOAD_MB": "500",
           "PYTHONPATH": str(ROOT)}
    print(f"file: {args.points:,} timed points with hr/cad/power, {size_mb:.1f} MiB")

    _, bare_rss, _, _ = measure_child([sys.executable, "-c", "pass"], env)
    _, libs_rss, _, libs_cpu = measure_child([sys.executable, "-c", "import core.cli, core.importer, core.files.gpx, "
                                              "core.routes.store, numpy, pandas, duckdb"], env)
    (work / "baseline.duckdb").unlink(missing_ok=True)
    _, cli_rss, _, _ = measure_child([sys.executable, "-m", "core", "--db", str(work / "baseline.duckdb"), "athletes"],
                                     env)
    import_wall, import_rss, status, import_cpu = measure_child(
        [sys.executable, "-m", "core", "--db", str(db), "import", str(gpx), "--json"], env)
    read_s, read_rss, read_cpu = timed_python(TIMED.format(
        extra="; from core.files.gpx import read_gpx", path=str(gpx), mode="'rb'",
        call="read_gpx(d, 'bench.gpx', max_bytes=10**9)"), env)
    gpxpy_s, gpxpy_rss, gpxpy_cpu = timed_python(TIMED.format(
        extra=", gpxpy", path=str(gpx), mode="encoding='utf-8'", call="gpxpy.parse(d)"), env)

    print(f"interpreter peak RSS: bare {bare_rss:.0f} MiB; with VeloCoach's libraries {libs_rss:.0f} MiB")
    print(f"python -m core import: {import_wall:.2f} s wall, {import_cpu:.2f} s CPU (whole process: start-up "
          f"{libs_cpu:.2f} s CPU, read, metrics, store), "
          f"peak {import_rss:.0f} MiB = +{import_rss - bare_rss:.0f} MiB above the bare interpreter, "
          f"+{import_rss - libs_rss:.0f} MiB above the libraries{'' if not status else ' — IMPORT FAILED'}")
    print(f"command line's baseline (athletes on a new database): peak {cli_rss:.0f} MiB; the import peaks "
          f"+{import_rss - cli_rss:.0f} MiB above it (goal ≤ 150)")
    print(f"core.files.gpx.read_gpx alone: {read_s:.2f} s wall, {read_cpu:.2f} s CPU, peak {read_rss:.0f} MiB (+{read_rss - libs_rss:.0f} MiB "
          "above the libraries, file bytes included)")
    print(f"gpxpy.parse: {gpxpy_s:.2f} s wall, {gpxpy_cpu:.2f} s CPU, peak {gpxpy_rss:.0f} MiB (+{gpxpy_rss - bare_rss:.0f} MiB above bare)")
    print(f"ratio import/gpxpy.parse: {import_wall / gpxpy_s:.2f}x wall, {import_cpu / gpxpy_cpu:.2f}x CPU "
          f"(target ≤ 0.4); read_gpx/gpxpy.parse: {read_s / gpxpy_s:.2f}x wall, {read_cpu / gpxpy_cpu:.2f}x CPU")

    from core.files.gpx import read_gpx
    from core.views.mapview import MapLine, build_map, map_html_size

    streams = read_gpx(gpx.read_bytes(), "bench.gpx", max_bytes=10**9)
    simple_map = build_map([MapLine(streams.lat, streams.lon, name="Bench ride")])
    full_map = build_map([MapLine(streams.lat, streams.lon, name="Bench ride")], max_points=10**9)
    kept = simple_map.velocoach_simplification[0]
    simple_kb, full_kb = map_html_size(simple_map) / 1000, map_html_size(full_map) / 1000
    print(f"map payload: {simple_kb:.0f} KB with {kept.points:,} points (≤ {kept.max_deviation_m:g} m deviation) vs "
          f"{full_kb:,.0f} KB unsimplified ({full_kb / simple_kb:.0f}x; target ≤ 300 KB)")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)  # the file, the databases and the log folder


if __name__ == "__main__":
    main()
