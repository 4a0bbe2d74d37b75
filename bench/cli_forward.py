"""What forwarding a command to the running app costs: `python -m core rides --json` and `metrics weekly --json`
run while `streamlit run app.py` holds the database (forwarded through the loopback API; core.relay) against the
same commands run directly on a copy of that database with no app (the baseline), measured in the same run.

    python bench/cli_forward.py [--years 1] [--runs 15]

Prints medians (whole process, start included; runs interleaved so machine load hits both alike) and the ratio
forwarded / direct, then the same without process start (in this process: `core.cli.main` on the copy against
the relay's run/poll round trips), and a forwarded import of a 0.7 MB FIT file against a direct one. Checks that
both print the same. Asserts nothing else.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.shell import start, stop  # noqa: E402
from core.access.local_api import call_app  # noqa: E402
from core.cli import build_parser, main  # noqa: E402
from core.relay.client import follow  # noqa: E402
from core.relay.files import PROTOCOL, NamedFiles, schema_known  # noqa: E402

COMMANDS = (["rides", "--json"], ["metrics", "weekly", "--json"])
FIT = ROOT / "tests" / "data" / "rides" / "fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit"


def run_process(db: Path, argv: list[str]) -> tuple[float, str]:
    env = {**os.environ, "VELOCOACH_DATA_DIR": str(db.parent / "files"), "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "core", "--db", str(db), *argv], env=env, capture_output=True,
                            text=True, cwd=db.parent)
    elapsed = (time.perf_counter() - t0) * 1000
    if result.returncode != 0:
        raise SystemExit(f"{argv}: exit {result.returncode}: {result.stderr}")
    return elapsed, result.stdout


def forwarded_in_process(db: Path, argv: list[str]) -> float:
    files_dir = db.parent / "files"
    sink = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        answer = call_app(files_dir, "cli/run", {"protocol": PROTOCOL, "schema": schema_known(), "db": str(db),
                                                 "argv": argv}, max_answer_bytes=32_000_000)
        follow(lambda name, body: call_app(files_dir, name, body, max_answer_bytes=32_000_000), answer,
               NamedFiles(build_parser().parse_args(argv)))
    return (time.perf_counter() - t0) * 1000


def direct_in_process(db: Path, argv: list[str]) -> float:
    sink = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        main(["--db", str(db), *argv])
    return (time.perf_counter() - t0) * 1000


def main_bench() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app_db, copy_db = Path(tmp) / "app" / "demo.duckdb", Path(tmp) / "copy" / "demo.duckdb"
        app_db.parent.mkdir()
        copy_db.parent.mkdir()
        subprocess.run([sys.executable, "-m", "core", "--db", str(app_db), "demo", "--years", str(args.years),
                        "--json"], cwd=ROOT, check=True, capture_output=True)
        shutil.copy(app_db, copy_db)
        process, _ = start("app.py", app_db)
        try:
            rides = run_process(app_db, ["rides", "--json"])[1].count('"id"')
            print(f"demo database: {args.years:g} years, {rides} rides on the first page; {args.runs} runs each\n")
            print(f"{'command (whole process)':<34}{'direct ms':>11}{'forwarded ms':>14}{'ratio':>8}")
            baseline = statistics.median(_timed_process(["-c", "pass"]) for _ in range(args.runs))
            for argv in COMMANDS:
                direct, forwarded = [], []
                for _ in range(args.runs):
                    d_ms, d_out = run_process(copy_db, argv)
                    f_ms, f_out = run_process(app_db, argv)
                    assert d_out == f_out, f"{argv}: forwarded output differs"
                    direct.append(d_ms)
                    forwarded.append(f_ms)
                d, f = statistics.median(direct), statistics.median(forwarded)
                print(f"{' '.join(argv):<34}{d:>11.0f}{f:>14.0f}{f / d:>8.2f}")
            print(f"{'(python -c pass)':<34}{baseline:>11.0f}")

            print(f"\n{'command (in this process)':<34}{'direct ms':>11}{'forwarded ms':>14}{'ratio':>8}")
            for argv in COMMANDS:
                direct_in_process(copy_db, argv)
                forwarded_in_process(app_db, argv)
                d = statistics.median(direct_in_process(copy_db, argv) for _ in range(args.runs * 3))
                f = statistics.median(forwarded_in_process(app_db, argv) for _ in range(args.runs * 3))
                print(f"{' '.join(argv):<34}{d:>11.1f}{f:>14.1f}{f / d:>8.2f}")

            d_ms, _ = run_process(copy_db, ["import", str(FIT), "--json"])
            f_ms, _ = run_process(app_db, ["import", str(FIT), "--json"])
            print(f"\n{'import a 0.7 MB FIT (process)':<34}{d_ms:>11.0f}{f_ms:>14.0f}{f_ms / d_ms:>8.2f}")
        finally:
            stop(process)


def _timed_process(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *argv], check=True)
    return (time.perf_counter() - t0) * 1000


if __name__ == "__main__":
    main_bench()
