"""`python -m core power` and `recompute` through the real command line: JSON shape, approve/dismiss, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from core.athletes import AthleteProfile, create_athlete
from core.store.db import connect
from tests.test_power_model import season

ROOT = Path(__file__).resolve().parent.parent
RIDES = ROOT / "tests" / "data" / "rides"


def run_cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "--db", str(db), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def season_db(db_path) -> Path:
    """A rider with FTP 250 and, in the last 60 days, submaximal rides and maximal efforts of a CP-280 curve."""
    database = connect(db_path)
    cur = database.cursor()
    athlete_id = create_athlete(cur, AthleteProfile(name="CLI rider", ftp_w=250), ftp_effective_from=date(2020, 1, 1))
    season(cur, athlete_id, today=date.today())
    database.close()
    return db_path


def test_power_json_has_the_model_the_mmp_with_rides_and_the_proposal(season_db):
    result = run_cli(season_db, "power", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"cp_w", "w_prime_j", "eftp_w", "mmp", "missing_efforts", "proposal"} <= set(report)
    assert report["cp_w"] == pytest.approx(280, rel=0.03) and 15000 < report["w_prime_j"] < 25000
    assert all({"duration_s", "power_w", "ride_id", "date"} <= set(p) for p in report["mmp"])
    assert report["proposal"]["proposed_ftp_w"] == round(report["eftp_w"])

    text = run_cli(season_db, "power")
    assert text.returncode == 0 and "CP 2" in text.stdout and "Proposal: FTP 250" in text.stdout


def test_approve_sets_the_ftp_and_a_second_approve_fails_cleanly(season_db):
    approved = run_cli(season_db, "power", "approve", "--json")
    assert approved.returncode == 0, approved.stderr
    result = json.loads(approved.stdout)
    assert result["previous_ftp_w"] == 250 and result["ftp_w"] > 270
    again = run_cli(season_db, "power", "approve")
    assert again.returncode == 1 and "no FTP proposal" in again.stderr and "Traceback" not in again.stderr
    recompute = run_cli(season_db, "recompute", "--from", date.today().isoformat(), "--json")
    assert recompute.returncode == 0 and json.loads(recompute.stdout)["recomputed"] == 1


def test_dismiss_hides_the_proposal(season_db):
    assert run_cli(season_db, "power", "dismiss").returncode == 0
    report = json.loads(run_cli(season_db, "power", "--json").stdout)
    assert report["proposal"] is None and "dismissed" in report["proposal_note"]


def test_real_rides_of_different_years_give_a_window_up_to_the_latest(tmp_path):
    db = tmp_path / "real.duckdb"
    imported = run_cli(db, "import", str(RIDES / "gc__Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit"),
                       str(RIDES / "sweatpy__4078723797.fit"), "--json")
    assert imported.returncode == 0, imported.stderr
    karoo = json.loads(imported.stdout.splitlines()[0])["id"]
    report = json.loads(run_cli(db, "power", "--json").stdout)
    assert report["date_to"] == "2025-05-09" and report["cp_w"] is None  # one ride in the 90 days: no test
    assert any("10–20 min" in m and "FTP" not in m for m in report["missing_efforts"])  # the profile has no FTP
    by_duration = {p["duration_s"]: p for p in report["mmp"]}
    assert by_duration[1200]["ride_id"] == karoo
    assert by_duration[1200]["power_w"] == pytest.approx(186.055, abs=0.1)  # GC re-implementation (research)
    wide = json.loads(run_cli(db, "power", "--json", "--from", "2016-01-01", "--to", "2025-12-31").stdout)
    assert wide["mmp"][0]["power_w"] == 1022.0  # the Edge 1000 ride's 1 s best joins the window


@pytest.mark.parametrize("args, code, words", [
    (("power", "--days", "30", "--from", "2025-01-01", "--to", "2025-02-01"), 2, "not both"),
    (("power", "--from", "2025-01-01"), 2, "go together"),
    (("power", "--from", "yesterday", "--to", "2025-01-01"), 2, "not a date"),
    (("power", "dismiss", "--days", "30"), 2, "takes no window"),
    (("power", "--days", "0"), 1, "1 to"),
    (("power", "--from", "2025-02-01", "--to", "2025-01-01"), 1, "before it starts"),
    (("power", "dismiss"), 1, "no FTP proposal"),
    (("recompute", "--from", "2025-02-01", "--to", "2025-01-01"), 1, "before"),
    (("recompute",), 2, "--from"),
])
def test_bad_power_commands_exit_with_a_clear_message(tmp_path, args, code, words):
    result = run_cli(tmp_path / "empty.duckdb", *args)
    assert result.returncode == code
    assert words in result.stderr and "Traceback" not in result.stderr
