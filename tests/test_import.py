"""import_file / import_files: dispatch, the same ride in three formats, bad inputs that change nothing."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from core.athletes import AthleteProfile, create_athlete
from core.errors import InvalidFileError
from core.importer import file_hash, import_file, import_files
from core.rides.store import RideFilter, get_ride, search_rides
from core.store.db import connect, integrity_problems, table_counts

RIDES = Path(__file__).resolve().parent / "data" / "rides"
SAME_RIDE = ("sweatpy__4078723797.fit", "sweatpy__4078723797_strava.gpx", "sweatpy__activity_4078723797.gpx")


@cache
def data(name: str) -> bytes:
    return (RIDES / name).read_bytes()


def test_a_fit_file_imports_as_a_ride_with_its_route_and_sections(cur, athlete_id):
    result = import_file(cur, athlete_id, "sweatpy__4078723797.fit", data("sweatpy__4078723797.fit"))
    assert result["ok"] and result["kind"] == "ride" and result["created"]
    assert result["points"] == 8357
    assert result["distance_m"] == pytest.approx(57567, rel=0.001)
    assert result["route_id"] is not None and result["sections"]
    ride = get_ride(cur, athlete_id, result["id"])
    assert ride["external_id"] == file_hash(data("sweatpy__4078723797.fit"))
    assert ride["source_file"] == "sweatpy__4078723797.fit"


def test_the_indoor_fit_file_imports_without_a_map(cur, athlete_id):
    result = import_file(cur, athlete_id, "gc__Garmin830_with_Stages.fit", data("gc__Garmin830_with_Stages.fit"))
    assert result["ok"] and result["route_id"] is None and result["sections"] == []
    assert result["np_w"] == pytest.approx(171.81, abs=0.01)  # GoldenCheetah's IsoPower (research gc_reimpl)
    assert result["sport_type"] == "indoor_cycling"
    rows, total = search_rides(cur, athlete_id, RideFilter())
    assert total == 1  # indoor rides are cycling


def test_the_unterminated_file_imports_and_says_so(cur, athlete_id):
    result = import_file(cur, athlete_id, "fitparse__nick.fit", data("fitparse__nick.fit"))
    assert result["ok"] and result["points"] == 14391
    assert any("ends early" in w for w in result["warnings"])
    assert "ends early" in " ".join(get_ride(cur, athlete_id, result["id"])["metrics"]["flags"])


def test_reimporting_a_file_is_a_no_op_with_a_message(cur, athlete_id):
    import_file(cur, athlete_id, "ride.fit", data("gc__Garmin830_with_Stages.fit"))
    before = table_counts(cur)
    again = import_file(cur, athlete_id, "renamed.fit", data("gc__Garmin830_with_Stages.fit"))
    assert not again["created"] and "already imported" in again["message"]
    assert table_counts(cur) == before


def _figures(result: dict) -> dict:
    return {k: result[k] for k in ("distance_m", "moving_time_s", "avg_hr", "avg_power_w", "np_w")}


def test_the_same_ride_as_fit_strava_gpx_and_garmin_gpx_gives_matching_figures(tmp_path):
    figures = {}
    for name in SAME_RIDE:
        db = connect(tmp_path / f"{name}.duckdb")
        cur = db.cursor()
        athlete_id = create_athlete(cur, AthleteProfile(name="R", ftp_w=250, lthr=165, max_hr=190))
        figures[name] = _figures(import_file(cur, athlete_id, name, data(name)))
        assert integrity_problems(cur) == []
        db.close()
    fit, strava, garmin = (figures[n] for n in SAME_RIDE)
    for other in (strava, garmin):
        assert other["distance_m"] == pytest.approx(fit["distance_m"], rel=0.005)
        assert other["moving_time_s"] == pytest.approx(fit["moving_time_s"], rel=0.005)
        assert other["avg_hr"] == pytest.approx(fit["avg_hr"], abs=0.5)
    assert strava["avg_power_w"] == pytest.approx(fit["avg_power_w"], abs=0.5)
    assert strava["np_w"] == pytest.approx(fit["np_w"], abs=0.5)
    assert garmin["avg_power_w"] is None  # Garmin's GPX export drops power


def test_the_same_ride_in_three_formats_becomes_one_ride(cur, athlete_id):
    results = [import_file(cur, athlete_id, name, data(name)) for name in SAME_RIDE]
    assert [r["duplicate_of"] for r in results] == [None, results[0]["id"], results[0]["id"]]
    rows, total = search_rides(cur, athlete_id, RideFilter())
    assert total == 1 and rows[0]["id"] == results[0]["id"]
    samples = cur.execute("SELECT count(DISTINCT ride_id) FROM ride_samples").fetchone()[0]
    assert samples == 1
    assert cur.execute("SELECT count(*) FROM routes").fetchone()[0] == 1


def test_an_untimed_gpx_becomes_a_route_and_as_ride_is_refused(cur, athlete_id):
    gpx = (b'<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
           b'<trk><name>Loop</name><trkseg>'
           + b"".join(f'<trkpt lat="{41.9 + i * 0.001}" lon="2.8"><ele>{100 + i}</ele></trkpt>'.encode()
                      for i in range(50))
           + b"</trkseg></trk></gpx>")
    before = table_counts(cur)
    with pytest.raises(InvalidFileError, match="no times"):
        import_file(cur, athlete_id, "loop.gpx", gpx, as_kind="ride")
    assert table_counts(cur) == before
    result = import_file(cur, athlete_id, "loop.gpx", gpx)
    assert result["kind"] == "route" and result["ok"] and result["points"] == 50
    assert table_counts(cur)["rides"] == 0


@pytest.mark.parametrize("filename, payload, reason", [
    ("empty.fit", b"", "empty"),
    ("notes.txt", b"hello", "imports .fit and .gpx"),
    ("noext", b"hello", "without an extension"),
    ("garbage.fit", b"\x00" * 500, "not a FIT file"),
    ("broken.gpx", b"<gpx><trk><trkseg><trkpt lat='1' lon='2'>", "broken.gpx"),
    ("hostile.gpx", b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY x "boom">]><gpx>&x;</gpx>', "refused"),
])
def test_bad_files_give_a_clear_error_and_store_nothing(cur, athlete_id, filename, payload, reason):
    before = table_counts(cur)
    with pytest.raises(InvalidFileError, match=reason) as exc:
        import_file(cur, athlete_id, filename, payload)
    assert filename in str(exc.value)
    assert table_counts(cur) == before


def test_a_file_over_the_size_limit_is_refused(cur, athlete_id, monkeypatch):
    monkeypatch.setenv("VELOCOACH_MAX_UPLOAD_MB", "1")
    before = table_counts(cur)
    with pytest.raises(InvalidFileError, match="over the 1 MB limit"):
        import_file(cur, athlete_id, "huge.fit", b"\x0e" * (1024 * 1024 + 1))
    assert table_counts(cur) == before


def test_a_fit_file_cannot_be_a_planned_route(cur, athlete_id):
    with pytest.raises(InvalidFileError, match="imports as a ride"):
        import_file(cur, athlete_id, "x.fit", data("gc__Garmin830_with_Stages.fit"), as_kind="route")


def test_import_files_reports_each_file_and_keeps_going(cur, athlete_id):
    calls = []
    results = import_files(cur, athlete_id, [("bad.fit", b"nope"),
                                             ("indoor.fit", data("gc__Garmin830_with_Stages.fit"))],
                           progress=lambda done, total, name: calls.append((done, total, name)))
    assert [r["ok"] for r in results] == [False, True]
    assert "bad.fit" in results[0]["error"]
    assert calls == [(1, 2, "bad.fit"), (2, 2, "indoor.fit")]
