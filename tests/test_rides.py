"""Ride storage, duplicates, search, tags and bulk actions on generated rides."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from core.athletes import get_athlete, update_athlete, validate_profile
from core.errors import InvalidFileError, NotFoundError, ValidationError
from core.files.streams import ActivityStreams
from core.rides.store import (
    RideFilter,
    add_tag,
    delete_rides,
    get_ride,
    list_tags,
    recompute_metrics,
    remove_tag,
    ride_report,
    search_rides,
    store_ride,
)
from core.store.db import data_version, integrity_problems, table_counts

START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def make_ride(seconds: int = 3600, power: float | None = 200.0, hr: float | None = 140.0, *,
              started_at: datetime = START, outdoor: bool = True, name: str = "", sport: str = "cycling",
              speed: float = 8.0) -> ActivityStreams:
    t = np.arange(seconds, dtype=float)
    dist = t * speed
    if outdoor:
        lat = 41.98 + dist / 111_000.0
        lon = np.full(seconds, 2.82)
        ele = 100 + 20 * np.sin(t / 300)
    else:
        lat = lon = ele = np.full(seconds, np.nan)
    return ActivityStreams(
        lat=lat, lon=lon, ele=ele, dist_m=dist if outdoor else np.full(seconds, np.nan), t_s=t,
        speed=np.full(seconds, speed) if outdoor else None,
        hr=None if hr is None else np.full(seconds, hr), cadence=np.full(seconds, 90.0),
        power=None if power is None else np.full(seconds, power), temp=np.full(seconds, 18.0),
        started_at=started_at, name=name, sport_type=sport, source_format="demo")


def test_a_stored_ride_has_its_samples_metrics_and_recorded_route(cur, athlete_id):
    stored = store_ride(cur, athlete_id, make_ride(), source="file", external_id="abc", source_file="a.fit",
                        name="Morning ride")
    assert stored.created and stored.duplicate_of is None
    ride = get_ride(cur, athlete_id, stored.id)
    assert ride["sample_count"] == 3600
    # GoldenCheetah's NP counts its zero-padded first 29 samples: 199.67 W for an hour at 200 W.
    assert ride["normalized_power_w"] == pytest.approx(200, rel=2e-3)
    assert ride["intensity_factor"] == pytest.approx(0.8, rel=2e-3)  # FTP 250
    assert ride["tss"] == pytest.approx(64.0, rel=4e-3)
    assert ride["load_method"] == "power"
    assert ride["route_id"] is not None
    assert ride["distance_m"] == pytest.approx(3599 * 8)
    assert len(ride["metrics"]["zones_power_s"]) == 7
    kind = cur.execute("SELECT kind FROM routes WHERE id = ?", [ride["route_id"]]).fetchone()[0]
    assert kind == "recorded"


def test_samples_keep_missing_values_as_null(cur, athlete_id):
    streams = make_ride(600)
    streams.hr[:100] = np.nan
    stored = store_ride(cur, athlete_id, streams, source="file", external_id="gap")
    nulls = cur.execute("SELECT count(*) FROM ride_samples WHERE ride_id = ? AND hr IS NULL",
                        [stored.id]).fetchone()[0]
    assert nulls == 100


def test_an_indoor_ride_stores_without_a_route(cur, athlete_id):
    stored = store_ride(cur, athlete_id, make_ride(1800, outdoor=False, sport="indoor_cycling"),
                        source="file", external_id="indoor")
    ride = get_ride(cur, athlete_id, stored.id)
    assert ride["route_id"] is None and ride["sample_count"] == 1800
    assert ride["distance_m"] is None and ride["tss"] > 0
    assert ride["name"].startswith("Indoor ride")


def test_the_ftp_on_the_rides_date_is_used(cur, athlete_id):
    cur.execute("INSERT INTO athlete_ftp_history VALUES (?, ?, ?)", [athlete_id, date(2024, 6, 1), 300.0])
    early = store_ride(cur, athlete_id, make_ride(), source="file", external_id="may")
    late = store_ride(cur, athlete_id, make_ride(started_at=START + timedelta(days=60)), source="file",
                      external_id="july")
    assert get_ride(cur, athlete_id, early.id)["intensity_factor"] == pytest.approx(200 / 250, rel=2e-3)
    assert get_ride(cur, athlete_id, late.id)["intensity_factor"] == pytest.approx(200 / 300, rel=2e-3)


def test_a_ride_without_power_uses_hr_load(cur, athlete_id):
    stored = store_ride(cur, athlete_id, make_ride(power=None, hr=165), source="file", external_id="hr")
    ride = get_ride(cur, athlete_id, stored.id)
    assert ride["load_method"] == "hr"
    assert ride["tss"] == pytest.approx(100, rel=0.01)
    assert ride["metrics"]["hr_load"] is True


def test_reimporting_the_same_file_is_a_no_op_with_a_message(cur, athlete_id):
    first = store_ride(cur, athlete_id, make_ride(), source="file", external_id="same", source_file="a.fit")
    counts = table_counts(cur)
    version = data_version(cur)
    again = store_ride(cur, athlete_id, make_ride(), source="file", external_id="same", source_file="a.fit")
    assert not again.created and again.id == first.id
    assert "already imported" in again.message
    assert table_counts(cur) == counts and data_version(cur) == version


def test_the_same_ride_from_garmin_is_linked_not_copied(cur, athlete_id):
    first = store_ride(cur, athlete_id, make_ride(), source="file", external_id="file-hash")
    samples = table_counts(cur)["ride_samples"]
    second = store_ride(cur, athlete_id, make_ride(3500, started_at=START + timedelta(seconds=40)),
                        source="garmin", account_id=0, external_id="123456", raw={"activityId": 123456})
    assert second.created and second.duplicate_of == first.id
    assert "linked" in second.message
    assert table_counts(cur)["ride_samples"] == samples
    rows, total = search_rides(cur, athlete_id, RideFilter())
    assert total == 1 and rows[0]["id"] == first.id
    assert get_ride(cur, athlete_id, first.id)["linked"][0]["external_id"] == "123456"
    again = store_ride(cur, athlete_id, make_ride(), source="garmin", external_id="123456")
    assert not again.created


def test_rides_far_apart_in_time_or_length_are_not_duplicates(cur, athlete_id):
    store_ride(cur, athlete_id, make_ride(), source="file", external_id="a")
    later = store_ride(cur, athlete_id, make_ride(started_at=START + timedelta(seconds=90)), source="file",
                       external_id="b")
    longer = store_ride(cur, athlete_id, make_ride(4000), source="file", external_id="c")
    assert later.duplicate_of is None and longer.duplicate_of is None


def test_a_summary_only_ride_stores_without_samples_and_a_later_file_takes_over(cur, athlete_id):
    summary = {"started_at": START.isoformat(), "elapsed_time_s": 3600, "moving_time_s": 3500,
               "distance_m": 28000, "avg_hr": 140, "avg_power_w": 190, "normalized_power_w": 200,
               "sport_type": "road_biking", "name": "Garmin ride"}
    garmin = store_ride(cur, athlete_id, None, source="garmin", external_id="999", summary=summary)
    ride = get_ride(cur, athlete_id, garmin.id)
    assert ride["sample_count"] == 0 and ride["tss"] == pytest.approx(3500 * 200 * 0.8 / (250 * 3600) * 100)
    add_tag(cur, athlete_id, [garmin.id], "race")
    fit = store_ride(cur, athlete_id, make_ride(), source="file", external_id="fit-hash")
    assert fit.duplicate_of is None and "replaces" in fit.message
    assert get_ride(cur, athlete_id, garmin.id)["duplicate_of"] == fit.id
    assert get_ride(cur, athlete_id, fit.id)["tags"] == ["race"]
    rows, total = search_rides(cur, athlete_id, RideFilter())
    assert total == 1 and rows[0]["id"] == fit.id


def test_a_ride_with_no_time_or_nothing_to_store_is_refused(cur, athlete_id):
    untimed = make_ride(100)
    untimed.t_s = None
    before = table_counts(cur)
    with pytest.raises(InvalidFileError, match="no timestamps"):
        store_ride(cur, athlete_id, untimed, source="file", external_id="x", source_file="route.gpx")
    with pytest.raises(InvalidFileError):
        store_ride(cur, athlete_id, None, source="garmin", external_id="y")
    assert table_counts(cur) == before


def test_a_failure_half_way_leaves_the_database_as_it_was(cur, athlete_id):
    broken = make_ride(600)
    broken.hr = np.full(10, 140.0)  # wrong length: fails while writing the samples, after the rides row
    broken.cadence = None
    before = table_counts(cur)
    with pytest.raises(Exception):  # noqa: B017 — any failure; what matters is that nothing stays
        store_ride(cur, athlete_id, broken, source="file", external_id="broken")
    assert table_counts(cur) == before
    assert integrity_problems(cur) == []


def test_a_ride_dated_in_the_future_is_flagged(cur, athlete_id):
    stored = store_ride(cur, athlete_id, make_ride(600, started_at=datetime.now(UTC) + timedelta(days=30)),
                        source="file", external_id="future")
    assert "dated in the future" in get_ride(cur, athlete_id, stored.id)["metrics"]["flags"]


# ---------------------------------------------------------------------------------------------- search

@pytest.fixture
def season(cur, athlete_id) -> dict[str, int]:
    ids = {}
    specs = [("Easy spin", 3600, 150, 120, 0, "cycling", True), ("Hill repeats", 5400, 250, 160, 1, "cycling", True),
             ("Long ride", 7200, 180, 135, 2, "road_biking", True), ("Zwift race", 2700, 280, 170, 3,
                                                                          "indoor_cycling", False),
             ("Morning run", 2400, None, 150, 4, "running", True)]
    for name, seconds, power, hr, day, sport, outdoor in specs:
        stored = store_ride(cur, athlete_id, make_ride(seconds, power, hr, started_at=START + timedelta(days=day),
                                                       outdoor=outdoor, sport=sport, name=name),
                            source="file", external_id=name)
        ids[name] = stored.id
    return ids


def names(rows):
    return [r["name"] for r in rows]


def test_the_list_shows_cycling_newest_first_and_hides_other_sports(cur, athlete_id, season):
    rows, total = search_rides(cur, athlete_id, RideFilter())
    assert total == 4
    assert names(rows) == ["Zwift race", "Long ride", "Hill repeats", "Easy spin"]
    _, everything = search_rides(cur, athlete_id, RideFilter(sport="all"))
    assert everything == 5
    rows, _ = search_rides(cur, athlete_id, RideFilter(sport="running"))
    assert names(rows) == ["Morning run"]


@pytest.mark.parametrize("flt, expected", [
    (RideFilter(date_from=date(2024, 5, 2), date_to=date(2024, 5, 3)), {"Hill repeats", "Long ride"}),
    (RideFilter(min_distance_km=40), {"Hill repeats", "Long ride"}),
    (RideFilter(max_duration_min=60), {"Easy spin", "Zwift race"}),
    (RideFilter(min_power_w=200, max_power_w=260), {"Hill repeats"}),
    (RideFilter(min_hr=150), {"Hill repeats", "Zwift race"}),
    (RideFilter(text="RIDE"), {"Long ride"}),
    (RideFilter(text="100%_"), set()),
])
def test_filters_narrow_the_list(cur, athlete_id, season, flt, expected):
    rows, total = search_rides(cur, athlete_id, flt)
    assert set(names(rows)) == expected and total == len(expected)


def test_sorting_and_paging_happen_in_sql(cur, athlete_id, season):
    rows, total = search_rides(cur, athlete_id, RideFilter(), sort="distance_m", descending=False, page=2,
                               page_size=2)
    assert total == 4
    assert names(rows) == ["Long ride", "Zwift race"]  # the indoor ride has no distance: sorted last
    with pytest.raises(ValidationError):
        search_rides(cur, athlete_id, RideFilter(), sort="name; DROP TABLE rides")


def test_tags_are_added_filtered_and_removed(cur, athlete_id, season):
    added = add_tag(cur, athlete_id, [season["Easy spin"], season["Long ride"]], " endurance ")
    assert added == 2
    assert add_tag(cur, athlete_id, [season["Easy spin"]], "endurance") == 0
    assert list_tags(cur, athlete_id) == ["endurance"]
    rows, total = search_rides(cur, athlete_id, RideFilter(tag="endurance"))
    assert set(names(rows)) == {"Easy spin", "Long ride"} and total == 2
    assert rows[0]["tags"] == ["endurance"]
    assert remove_tag(cur, athlete_id, [season["Easy spin"]], "endurance") == 1
    assert get_ride(cur, athlete_id, season["Easy spin"])["tags"] == []
    remove_tag(cur, athlete_id, [season["Long ride"]], "endurance")
    assert list_tags(cur, athlete_id) == []  # an unused tag disappears


def test_a_rides_tags_are_listed_in_name_order_on_the_list_and_the_ride(cur, athlete_id, season):
    for tag in ("zwift", "Alps", "épique", "base"):  # code-point order: capitals, then lower case, then accents
        add_tag(cur, athlete_id, [season["Long ride"]], tag)
    add_tag(cur, athlete_id, [season["Easy spin"]], "base")
    rows, _ = search_rides(cur, athlete_id, RideFilter())
    tags = {row["name"]: row["tags"] for row in rows}
    assert tags["Long ride"] == ["Alps", "base", "zwift", "épique"]
    assert tags["Easy spin"] == ["base"] and tags["Zwift race"] == []
    assert get_ride(cur, athlete_id, season["Long ride"])["tags"] == ["Alps", "base", "zwift", "épique"]


def test_a_blank_tag_or_someone_elses_ride_is_refused(cur, athlete_id, season):
    with pytest.raises(ValidationError):
        add_tag(cur, athlete_id, [season["Easy spin"]], "   ")
    with pytest.raises(NotFoundError):
        add_tag(cur, athlete_id, [999_999], "x")
    assert list_tags(cur, athlete_id) == []


def test_recompute_uses_the_new_ftp(cur, athlete_id, season):
    ride_id = season["Hill repeats"]
    assert get_ride(cur, athlete_id, ride_id)["intensity_factor"] == pytest.approx(1.0, rel=2e-3)
    cur.execute("DELETE FROM athlete_ftp_history WHERE athlete_id = ?", [athlete_id])
    profile = validate_profile(**{**get_athlete(cur, athlete_id), "ftp_w": 200})
    update_athlete(cur, athlete_id, profile)
    cur.execute("UPDATE athlete_ftp_history SET effective_from = DATE '2000-01-01' WHERE athlete_id = ?",
                [athlete_id])
    version = data_version(cur)
    assert recompute_metrics(cur, athlete_id, [ride_id]) == 1
    ride = get_ride(cur, athlete_id, ride_id)
    assert ride["intensity_factor"] == pytest.approx(1.25, rel=2e-3)
    assert data_version(cur) > version


def test_delete_removes_samples_tags_route_and_linked_copies(cur, athlete_id, season):
    ride_id = season["Long ride"]
    route_id = get_ride(cur, athlete_id, ride_id)["route_id"]
    add_tag(cur, athlete_id, [ride_id], "epic")
    store_ride(cur, athlete_id, make_ride(7200, 180, 135, started_at=START + timedelta(days=2, seconds=5)),
               source="garmin", external_id="555")
    assert delete_rides(cur, athlete_id, [ride_id]) == 1
    assert cur.execute("SELECT count(*) FROM rides WHERE id = ? OR external_id = '555'",
                       [ride_id]).fetchone()[0] == 0
    assert cur.execute("SELECT count(*) FROM ride_samples WHERE ride_id = ?", [ride_id]).fetchone()[0] == 0
    assert cur.execute("SELECT count(*) FROM routes WHERE id = ?", [route_id]).fetchone()[0] == 0
    assert cur.execute("SELECT count(*) FROM route_points WHERE route_id = ?", [route_id]).fetchone()[0] == 0
    assert list_tags(cur, athlete_id) == []
    assert integrity_problems(cur) == []


def test_deleting_an_unknown_ride_changes_nothing(cur, athlete_id, season):
    before = table_counts(cur)
    with pytest.raises(NotFoundError):
        delete_rides(cur, athlete_id, [season["Easy spin"], 424242])
    assert table_counts(cur) == before


def test_ride_report_has_the_cli_keys(cur, athlete_id, season):
    report = ride_report(cur, athlete_id, season["Hill repeats"])
    for key in ("np_w", "if", "tss", "vi", "ef", "zones", "power_curve", "distance_m", "moving_time_s"):
        assert key in report
    assert report["power_curve"]["60"] == pytest.approx(250)
    assert json.loads(json.dumps(report, default=str))["if"] == pytest.approx(1.0, rel=2e-3)


@pytest.mark.parametrize("change, words", [({"name": "   "}, "1 to 120"), ({"name": "x" * 121}, "1 to 120"),
                                           ({"sport_type": "unicycle"}, "Unknown ride type"),
                                           ({"rpe": 11}, "1 \\(very easy\\) to 10"), ({"rpe": 0}, "1 \\(very easy"),
                                           ({"rpe": True}, "whole number"), ({"notes": "n" * 5001}, "5,000")])
def test_a_bad_ride_edit_is_refused_in_words_and_changes_nothing(cur, athlete_id, change, words):
    from core.rides.store import edit_ride, get_ride

    ride_id = store_ride(cur, athlete_id, make_ride(600, name="Loop"), source="file", external_id="e1").id
    before = get_ride(cur, athlete_id, ride_id)
    with pytest.raises(ValidationError, match=words):
        edit_ride(cur, athlete_id, ride_id, **({"notes": "kept?"} | change))
    assert get_ride(cur, athlete_id, ride_id) == before


def test_a_ride_keeps_its_corrected_name_type_notes_and_rpe_and_only_its_owner_edits_it(cur, athlete_id):
    from core.athletes import AthleteProfile, create_athlete
    from core.rides.store import edit_ride

    ride_id = store_ride(cur, athlete_id, make_ride(600, name="Loop"), source="file", external_id="e2").id
    version = data_version(cur)
    ride = edit_ride(cur, athlete_id, ride_id, name="  Morning\n loop ", sport_type="gravel_cycling",
                     notes="Flat tyre at km 12", rpe=7)
    assert (ride["name"], ride["sport_type"], ride["notes"], ride["rpe"]) == (
        "Morning loop", "gravel_cycling", "Flat tyre at km 12", 7)
    assert data_version(cur) > version
    assert edit_ride(cur, athlete_id, ride_id, notes="", clear_rpe=True)["notes"] is None
    other = create_athlete(cur, AthleteProfile(name="Other"))
    with pytest.raises(NotFoundError):
        edit_ride(cur, other, ride_id, name="Mine now")
