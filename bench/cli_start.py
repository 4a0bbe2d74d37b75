"""How fast the light commands answer: `athletes`, `rides --json`, `metrics weekly|monthly|fitness --json` and
`ride ID --json` (a ride without and one with a completed workout's compliance), each a whole `python -m core` process (start included), against a bare
`python -c "import duckdb"` measured in the same run; then the three metrics commands together against a pandas
groupby over the 1 Hz samples (the notebook way: read the samples, group them by week).

    python bench/cli_start.py [--db /tmp/velocoach-bench-10y.duckdb] [--rounds 3]

The database is the 10-year demo (`python -m core --db X demo --years 10 --rides-per-week 10`), built first if the
file is missing (it takes a while; it is kept for the next run). Each round runs the baseline right before each
command (machine load hits both alike); the figures are medians over the rounds, wall and CPU (user + system of
the child, steadier on a shared machine), with byte code cached as Python does by default. Goals (issue 17): every command ≤ 1.5× the baseline; the three metrics
commands together ≥ 20× faster than the pandas baseline. Prints; asserts nothing but equal outputs.

Every command is measured twice: as asked again with nothing changed (answered from its kept answer, core.answers:
the repeat questions of a script, a status bar or a second look) and computed (``VELOCOACH_ANSWERS=0``: what the
first question after an import or an edit costs). Both print their ratios; the first is the default a rider meets.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = Path(tempfile.gettempdir()) / "velocoach-bench-10y.duckdb"
BASELINE = [sys.executable, "-c", "import duckdb"]
METRICS = (["metrics", "weekly", "--json"], ["metrics", "monthly", "--json"], ["metrics", "fitness", "--json"])

# The notebook way to weekly figures: every sample read into pandas, grouped by ride, then by week (the baseline
# the issue was measured against; it computes less than the three commands print).
PANDAS_SAMPLES = """
import sys, duckdb, pandas as pd
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")
rides = con.execute("SELECT id AS ride_id, started_at FROM rides WHERE duplicate_of IS NULL").df()
samples = con.execute("SELECT ride_id, t_s, dist_m, power FROM ride_samples").df()
per_ride = samples.groupby("ride_id").agg(distance_m=("dist_m", "max"), duration_s=("t_s", "max"),
                                          avg_power_w=("power", "mean")).reset_index().merge(rides, on="ride_id")
per_ride["week"] = per_ride["started_at"].dt.to_period("W").dt.start_time
weekly = per_ride.groupby("week").agg(rides=("ride_id", "count"), distance_m=("distance_m", "sum"),
                                      duration_s=("duration_s", "sum"), avg_power_w=("avg_power_w", "mean"))
print(len(weekly), len(samples))
"""

# The notebook way to what the three commands print: weekly and monthly totals (rides, distance, time, climbing,
# TSS, average power and HR) and the daily CTL/ATL/TSB, from the samples as a notebook has them (no stored
# per-ride figures): NP = the 4th-power mean of the 30 s rolling mean of 1 Hz power (Coggan), TSS from NP and the
# FTP of the ride's day, CTL/ATL as exponentially weighted averages of daily TSS (42 and 7 days). Prints the weekly
# ride counts, which must equal the command's.
PANDAS_SAME_FIGURES = """
import json, math, sys, duckdb, numpy as np, pandas as pd
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")
rides = con.execute("SELECT id AS ride_id, started_at, sport_type FROM rides WHERE duplicate_of IS NULL "
                    "AND athlete_id = 1").df()
ftp = con.execute("SELECT effective_from, ftp_w FROM athlete_ftp_history WHERE athlete_id = 1 ORDER BY 1").df()
samples = con.execute("SELECT ride_id, t_s, dist_m, ele, hr, power FROM ride_samples ORDER BY ride_id, t_s").df()
samples = samples[samples["ride_id"].isin(rides["ride_id"])]
grouped = samples.groupby("ride_id", sort=False)
rolling = grouped["power"].rolling(30, min_periods=30).mean().reset_index(level=0, drop=True)
climb = grouped["ele"].diff().clip(lower=0)
per_ride = pd.DataFrame({
    "distance_m": grouped["dist_m"].max(), "moving_time_s": grouped["t_s"].max(),
    "elevation_gain_m": climb.groupby(samples["ride_id"]).sum(), "avg_power_w": grouped["power"].mean(),
    "avg_hr": grouped["hr"].mean(), "np_w": (rolling ** 4).groupby(samples["ride_id"]).mean() ** 0.25,
}).reset_index().merge(rides, on="ride_id")
per_ride["day"] = per_ride["started_at"].dt.tz_localize(None).dt.normalize()
ftp["day"] = pd.to_datetime(ftp["effective_from"])
per_ride = pd.merge_asof(per_ride.sort_values("day"), ftp[["day", "ftp_w"]], on="day", direction="backward")
per_ride["ftp_w"] = per_ride["ftp_w"].fillna(ftp["ftp_w"].iloc[0])
intensity = per_ride["np_w"] / per_ride["ftp_w"]
per_ride["tss"] = per_ride["moving_time_s"] * per_ride["np_w"] * intensity / (per_ride["ftp_w"] * 3600) * 100
out = {}
for name, freq in (("weekly", "W"), ("monthly", "M")):
    per_ride["period"] = per_ride["day"].dt.to_period(freq).dt.start_time
    out[name] = per_ride.groupby("period").agg(
        rides=("ride_id", "count"), distance_m=("distance_m", "sum"), moving_time_s=("moving_time_s", "sum"),
        elevation_gain_m=("elevation_gain_m", "sum"), tss=("tss", "sum"), avg_power_w=("avg_power_w", "mean"),
        avg_hr=("avg_hr", "mean"))
daily = per_ride.groupby("day")["tss"].sum()
daily = daily.reindex(pd.date_range(daily.index.min(), pd.Timestamp.today().normalize()), fill_value=0.0)
fitness = pd.DataFrame({"tss": daily, "ctl": daily.ewm(alpha=1 - math.exp(-1 / 42), adjust=False).mean(),
                        "atl": daily.ewm(alpha=1 - math.exp(-1 / 7), adjust=False).mean()})
fitness["tsb"] = fitness["ctl"].shift(1) - fitness["atl"].shift(1)
print(json.dumps([int(n) for n in out["weekly"]["rides"]], separators=(",", ":")), len(fitness), len(samples))
"""


def run(argv: list[str], env: dict) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout); exits on a failure."""
    out = tempfile.TemporaryFile()
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {process.returncode}: {process.stderr.read().decode()}")
    process.stderr.close()
    out.seek(0)
    return wall, usage.ru_utime + usage.ru_stime, out.read().decode()


def core(db: Path, argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "core", "--db", str(db), *argv]


def ensure_database(db: Path, env: dict) -> None:
    if db.exists():
        return
    print(f"building the 10-year demo database at {db} (once; kept for the next run) …", flush=True)
    partial = db.with_name(db.name + ".building")
    partial.unlink(missing_ok=True)
    subprocess.run(core(partial, ["demo", "--years", "10", "--rides-per-week", "10", "--json"]), env=env,
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    partial.rename(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the pandas-over-samples baseline")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VELOCOACH_DATA_DIR": str(args.db.parent / "velocoach-bench-files"),
           "VELOCOACH_SEED_DEMO": "0",
           # Byte code cached as on a rider's computer (this machine sets PYTHONDONTWRITEBYTECODE, which makes
           # every start compile VeloCoach's modules again), kept out of the work tree; the warm-up run fills it.
           "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "velocoach-bench-pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    ensure_database(args.db, env)
    import duckdb

    with duckdb.connect(str(args.db), read_only=True) as con:
        rides, newest = con.execute("SELECT count(*), max(id) FROM rides").fetchone()
        # ``ride ID`` twice: a ride that completed a planned structured workout (its compliance is computed from
        # the samples) and the newest that completed none (a summary read in SQL).
        plain = con.execute("SELECT max(id) FROM rides r WHERE duplicate_of IS NULL AND NOT EXISTS (SELECT 1 FROM "
                            "planned_workouts w WHERE w.completed_ride_id = r.id)").fetchone()[0]
        with_workout = con.execute("SELECT max(completed_ride_id) FROM planned_workouts").fetchone()[0] or newest
        samples = con.execute("SELECT count(*) FROM ride_samples").fetchone()[0]
    print(f"database: {args.db} ({rides:,} rides, {samples / 1e6:.1f} M samples); {args.rounds} rounds, medians\n")
    commands = [["athletes"], ["rides", "--json"], *METRICS, ["ride", str(plain), "--json"],
                ["ride", str(with_workout), "--json"]]
    sys.path.insert(0, str(ROOT))
    from core import answers

    # A database written moments ago is not yet trusted to be answered from (answers.SETTLED_S): wait it out, so
    # the warm-up keeps every answer; then check it did, or the "answered" rows would measure computed runs.
    time.sleep(max(0.0, args.db.stat().st_mtime + answers.SETTLED_S + 0.1 - time.time()))
    run(BASELINE, env)  # warm the page cache for both sides
    for argv in commands:
        run(core(args.db, argv), env)
    kept = os.listdir(answers.folder_of(args.db)) if os.path.isdir(answers.folder_of(args.db)) else []
    if len(kept) < len(commands):
        raise SystemExit(f"only {len(kept)} of {len(commands)} answers were kept after the warm-up: the answered "
                         "rows would measure computed runs")

    computed_env = {**env, "VELOCOACH_ANSWERS": "0"}
    variants = (("", env), (" (computed)", computed_env))
    print(f"{'command (whole process)':<38}{'wall ms':>9}{'ratio':>7}{'CPU ms':>9}{'ratio':>7}   (goal ≤ 1.5)")
    rows: dict[str, dict[str, list[float]]] = {}
    outputs: dict[str, str] = {}
    for _ in range(args.rounds):
        for argv, (suffix, variant_env) in ((argv, v) for argv in commands for v in variants):
            label = " ".join(argv) + suffix
            base_wall, base_cpu, _ = run(BASELINE, env)
            wall, cpu, out = run(core(args.db, argv), variant_env)
            assert outputs.setdefault(" ".join(argv), out) == out, f"{label}: output differs"
            row = rows.setdefault(label, {"wall": [], "cpu": [], "wall_ratio": [], "cpu_ratio": [],
                                          "base_wall": [], "base_cpu": []})
            row["wall"].append(wall)
            row["cpu"].append(cpu)
            row["base_wall"].append(base_wall)
            row["base_cpu"].append(base_cpu)
            row["wall_ratio"].append(wall / base_wall)
            row["cpu_ratio"].append(cpu / max(base_cpu, 1e-3))
    med = {label: {k: statistics.median(v) for k, v in row.items()} for label, row in rows.items()}
    for label, m in med.items():
        print(f"{label:<38}{m['wall'] * 1000:>9.0f}{m['wall_ratio']:>7.2f}{m['cpu'] * 1000:>9.0f}{m['cpu_ratio']:>7.2f}")
    base_wall = statistics.median(w for row in rows.values() for w in row["base_wall"])
    base_cpu = statistics.median(c for row in rows.values() for c in row["base_cpu"])
    print(f"{'(python -c import duckdb)':<38}{base_wall * 1000:>9.0f}{'':>7}{base_cpu * 1000:>9.0f}")

    if args.skip_pandas:
        return
    metrics = {suffix: (sum(med[" ".join(argv) + suffix]["wall"] for argv in METRICS),
                        sum(med[" ".join(argv) + suffix]["cpu"] for argv in METRICS)) for suffix, _ in variants}
    pandas_runs = [run([sys.executable, "-c", PANDAS_SAMPLES, str(args.db)], env)[:2] for _ in range(args.rounds)]
    pandas_wall = statistics.median(w for w, _ in pandas_runs)
    pandas_cpu = statistics.median(c for _, c in pandas_runs)
    print(f"\npandas groupby over the samples: {pandas_wall * 1000:.0f} ms wall, {pandas_cpu * 1000:.0f} ms CPU")
    for suffix, (metrics_wall, metrics_cpu) in metrics.items():
        print(f"the three metrics commands together{suffix}: {metrics_wall * 1000:.0f} ms wall, "
              f"{metrics_cpu * 1000:.0f} ms CPU; speed-up {pandas_wall / metrics_wall:.1f}x wall, "
              f"{pandas_cpu / metrics_cpu:.1f}x CPU (goal ≥ 20x)")
    same = [run([sys.executable, "-c", PANDAS_SAME_FIGURES, str(args.db)], env) for _ in range(args.rounds)]
    same_wall = statistics.median(w for w, _, _ in same)
    same_cpu = statistics.median(c for _, c, _ in same)
    counts = json.loads(same[0][2].split()[0])
    weekly = [json.loads(line)["rides"] for line in outputs["metrics weekly --json"].splitlines()]
    assert counts == weekly, "the pandas weekly ride counts differ from the command's: not the same figures"
    print(f"pandas computing the same figures from the samples (weekly, monthly, NP → TSS → CTL/ATL/TSB): "
          f"{same_wall * 1000:.0f} ms wall, {same_cpu * 1000:.0f} ms CPU")
    for suffix, (metrics_wall, metrics_cpu) in metrics.items():
        print(f"speed-up of the three{suffix or ' (answered)'}: {same_wall / metrics_wall:.1f}x wall, "
              f"{same_cpu / metrics_cpu:.1f}x CPU (goal ≥ 20x)")


if __name__ == "__main__":
    main()
