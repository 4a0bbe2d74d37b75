"""`python -m core import / rides / ride` end to end through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RIDES = ROOT / "tests" / "data" / "rides"


def run_cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "--db", str(db), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_import_rides_and_ride_json(tmp_path):
    db = tmp_path / "cli.duckdb"
    result = run_cli(db, "import", str(RIDES / "gc__Garmin830_with_Stages.fit"),
                     str(RIDES / "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit"), "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["ok"] for r in lines] == [True, True] and all(r["kind"] == "ride" for r in lines)
    assert lines[1]["sections"] and lines[1]["points"] == 4700

    listing = run_cli(db, "rides", "--json", "--min-km", "10")
    assert listing.returncode == 0, listing.stderr
    payload = json.loads(listing.stdout)
    assert payload["total"] == 1 and payload["rides"][0]["id"] == lines[1]["id"]

    detail = run_cli(db, "ride", str(lines[0]["id"]), "--json")
    assert detail.returncode == 0, detail.stderr
    report = json.loads(detail.stdout)
    assert report["np_w"] > 150 and report["vi"] > 1 and report["ef"] > 1
    assert report["power_curve"]["60"] > report["power_curve"]["1200"]
    assert len(report["zones"]["power_s"]) == 7


def test_a_failed_file_exits_1_while_the_others_import(tmp_path):
    db = tmp_path / "cli.duckdb"
    bad = tmp_path / "broken.fit"
    bad.write_bytes(b"not fit")
    result = run_cli(db, "import", str(bad), str(RIDES / "gc__Garmin830_with_Stages.fit"), "--json")
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0] == {"file": "broken.fit", "ok": False, "error": lines[0]["error"]}
    assert "broken.fit" in lines[0]["error"] and lines[1]["ok"]
    assert "Traceback" not in result.stderr


def test_an_unknown_ride_exits_1_with_one_line(tmp_path):
    result = run_cli(tmp_path / "cli.duckdb", "ride", "99", "--json")
    assert result.returncode == 1
    assert "Ride 99 was not found" in result.stderr and result.stderr.count("\n") == 1
