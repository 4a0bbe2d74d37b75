"""Backup benchmark: prints figures and ratios, asserts nothing.

    python bench/backup.py [--years 0.5] [--keep DIR]

Builds a demo database (``python -m core demo --years N``) and measures, in one run:

1. export to ZIP (zstd Parquet per table) and to JSON: seconds, MB, and the ratio to the baseline measured on
   the same data — DuckDB's own ``COPY (SELECT …) TO 'x.parquet'`` of the same tables (the cheapest possible dump);
2. validated restore of each into an empty database: seconds, rows per second, and the ratio to the baseline
   ``INSERT INTO … SELECT * FROM read_parquet(…)`` of the same files with no checks and no id remapping;
3. GPX export of the longest ride (string writer), against gpxpy building the same track (baseline), and
   reading it back with core.files.gpx.read_gpx.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.files.gpx import read_gpx  # noqa: E402
from core.store import backup_export, backup_format, backup_restore, gpx_export  # noqa: E402
from core.store.db import connect, table_counts  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=float, default=0.5)
    parser.add_argument("--keep", type=Path, help="folder to keep the databases in")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="velocoach-bench-backup-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / "source.duckdb"
    if not source.exists():
        print(f"building a {args.years}-year demo database…", flush=True)
        subprocess.run([sys.executable, "-m", "core", "--db", str(source), "demo", "--years", str(args.years),
                        "--json"], cwd=ROOT, check=True, capture_output=True)
    db = connect(source)
    cur = db.cursor()
    athlete_id = cur.execute("SELECT min(id) FROM athletes").fetchall()[0][0]
    counts = {t: n for t, n in table_counts(cur).items() if t in backup_format.backup_tables()}
    rows = sum(counts.values())
    print(f"data: {counts['rides']} rides, {counts['ride_samples']:,} samples, {rows:,} rows in backed-up tables")

    # Baseline: DuckDB COPY of every backed-up table of the athlete to Parquet files.
    base_dir = work / "baseline"
    base_dir.mkdir(exist_ok=True)

    def baseline_export():
        for table in backup_format.backup_tables():
            sql, _ = backup_format._export_select(cur, table, athlete_id)
            cur.execute(f"COPY ({sql.replace('?', str(int(athlete_id)))}) TO '{base_dir / table}.parquet' "
                        "(FORMAT parquet, COMPRESSION zstd)")

    _, t_base = timed(baseline_export)
    zipped, t_zip = timed(lambda: backup_export.export_zip(cur, athlete_id))
    js, t_json = timed(lambda: backup_export.export_json(cur, athlete_id))
    print(f"baseline COPY TO parquet : {t_base:6.2f} s")
    print(f"export ZIP               : {t_zip:6.2f} s  {len(zipped) / 1048576:7.1f} MB  ({t_zip / t_base:.1f}x baseline)")
    print(f"export JSON              : {t_json:6.2f} s  {len(js) / 1048576:7.1f} MB  ({t_json / t_base:.1f}x baseline)")
    db.close()

    def fresh(name):
        path = work / name
        path.unlink(missing_ok=True)
        return connect(path)

    target = fresh("baseline_target.duckdb")
    tcur = target.cursor()

    def baseline_restore():
        for table in backup_format.backup_tables():
            tcur.execute(f"INSERT INTO {table} SELECT * FROM read_parquet('{base_dir / table}.parquet')")  # noqa: S608

    _, t_base_restore = timed(baseline_restore)
    target.close()
    print(f"baseline INSERT parquet  : {t_base_restore:6.2f} s")
    for kind, data in (("ZIP", zipped), ("JSON", js)):
        target = fresh(f"{kind.lower()}_target.duckdb")
        result, seconds = timed(lambda data=data, kind=kind, target=target: backup_restore.restore_backup(
            target.cursor(), data, f"bench.{kind.lower()}"))
        print(f"restore {kind:<4}             : {seconds:6.2f} s  {rows / seconds:10,.0f} rows/s  "
              f"({seconds / t_base_restore:.1f}x baseline)")
        target.close()

    db = connect(source, read_only=True)
    cur = db.cursor()
    ride_id, samples = cur.execute("SELECT ride_id, count(*) FROM ride_samples GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
                                   ).fetchall()[0]
    (name, gpx), t_gpx = timed(lambda: gpx_export.ride_gpx(cur, athlete_id, ride_id))

    def gpxpy_baseline():
        import gpxpy

        return gpxpy.parse(gpx.decode("utf-8")).to_xml()  # gpxpy's object model for the same points, then XML

    _, t_gpxpy = timed(gpxpy_baseline)
    print(f"gpxpy parse + to_xml of the same track (baseline): {t_gpxpy:.2f} s")
    _, t_read = timed(lambda: read_gpx(gpx, name))
    print(f"ride GPX ({samples:,} points): write {t_gpx:.2f} s ({samples / t_gpx:,.0f} points/s), "
          f"{len(gpx) / 1048576:.1f} MB ({t_gpxpy / t_gpx:.1f}x faster than the gpxpy baseline); "
          f"read back {t_read:.2f} s")
    db.close()
    print(f"databases in {work}")


if __name__ == "__main__":
    main()
