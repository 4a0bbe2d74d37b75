"""``python -m core metrics …`` and ``python -m core compare A B`` (run in-process through core.cli.main)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from core.cli import main
from core.store.db import table_counts, transaction
from tests.test_dashboard_fitness import insert_ride


@pytest.fixture
def rides(cur, athlete_id):
    with transaction(cur):
        insert_ride(cur, athlete_id, date(2024, 5, 6), 100, distance_m=40_000)   # Monday
        insert_ride(cur, athlete_id, date(2024, 5, 12), 50, distance_m=20_000)   # Sunday, same week
        insert_ride(cur, athlete_id, date(2024, 6, 3), 80, distance_m=30_000)


def run(db_path, capsys, *args) -> tuple[int, list]:
    code = main(["--db", str(db_path), *args])
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines() if line.strip()] if "--json" in args else out
    return code, lines


def test_weekly_json_has_one_object_per_week_with_the_totals(db_path, db, rides, capsys):
    code, rows = run(db_path, capsys, "metrics", "weekly", "--from", "2024-05-01", "--to", "2024-05-31", "--json")
    assert code == 0
    assert [r["period_start"] for r in rows] == ["2024-04-29", "2024-05-06", "2024-05-13", "2024-05-20",
                                                 "2024-05-27"]
    may6 = rows[1]
    assert may6["rides"] == 2 and may6["distance_m"] == 60_000 and may6["tss"] == 150
    assert set(may6) >= {"period_start", "rides", "distance_m", "moving_time_s", "elevation_gain_m", "tss"}


def test_monthly_and_fitness_json(db_path, db, rides, capsys):
    code, months = run(db_path, capsys, "metrics", "monthly", "--json")
    assert code == 0 and [(m["period_start"], m["rides"]) for m in months] == [("2024-05-01", 2), ("2024-06-01", 1)]
    code, days = run(db_path, capsys, "metrics", "fitness", "--from", "2024-05-06", "--to", "2024-05-08", "--json")
    assert code == 0 and [d["date"] for d in days] == ["2024-05-06", "2024-05-07", "2024-05-08"]
    assert days[0]["ctl"] == pytest.approx(100 * (1 - 2.718281828 ** (-1 / 42)), abs=1e-3)
    assert days[1]["tsb"] == pytest.approx(days[0]["ctl"] - days[0]["atl"], abs=1e-3)


def test_a_reversed_window_fails_with_exit_1(db_path, db, rides, capsys):
    before = table_counts(db.cursor())
    code = main(["--db", str(db_path), "metrics", "weekly", "--from", "2024-06-01", "--to", "2024-05-01"])
    assert code == 1 and "before" in capsys.readouterr().err
    assert table_counts(db.cursor()) == before


def test_a_bad_date_is_a_usage_error(db_path, db, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db_path), "metrics", "weekly", "--from", "last tuesday"])
    assert exc.value.code == 2 and "not a date" in capsys.readouterr().err


def test_compare_json_reports_differences_and_climbs(db_path, db, cur, athlete_id, capsys):
    from core.files.gpx import read_gpx
    from core.rides.store import store_ride
    from tests.test_compare import STRAVA, ridden_again

    ride = read_gpx(STRAVA.read_bytes(), STRAVA.name)
    a = store_ride(cur, athlete_id, ride, source="file", external_id="a").id
    b = store_ride(cur, athlete_id, ridden_again(ride), source="file", external_id="b").id
    code, (report,) = run(db_path, capsys, "compare", str(a), str(b), "--json")
    assert code == 0
    assert report["a"]["id"] == a and report["b"]["id"] == b
    figures = {d["figure"]: d for d in report["differences"]}
    assert figures["Distance"]["a_minus_b"] is not None and "Best 5 min" in figures
    assert len(report["shared_climbs"]) >= 3
    code = main(["--db", str(db_path), "compare", str(a), "424242"])
    assert code == 1 and "Ride 424242 was not found" in capsys.readouterr().err
