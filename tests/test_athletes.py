"""Athlete profiles: validation in plain words, FTP history for past rides."""

from datetime import date

import pytest

from core.athletes import (
    create_athlete,
    data_summary,
    ftp_by_day,
    ftp_on,
    get_athlete,
    list_athletes,
    update_athlete,
    validate_profile,
)
from core.errors import NotFoundError, ValidationError


def test_profile_errors_name_each_field():
    with pytest.raises(ValidationError) as info:
        validate_profile(name="  ", ftp_w=5000, email="nobody")
    message = str(info.value)
    assert "Name" in message and "FTP" in message and "E-mail" in message


def test_lthr_must_be_below_max_hr():
    with pytest.raises(ValidationError, match="below max HR"):
        validate_profile(name="A", lthr=190, max_hr=180)


def test_a_changed_ftp_applies_from_that_day_and_past_rides_keep_the_old_one(cur):
    athlete_id = create_athlete(cur, validate_profile(name="A", ftp_w=240), ftp_effective_from=date(2026, 1, 1))
    update_athlete(cur, athlete_id, validate_profile(name="A", ftp_w=265), today=date(2026, 6, 1))
    assert ftp_on(cur, athlete_id, date(2026, 3, 1)) == 240
    assert ftp_on(cur, athlete_id, date(2026, 7, 1)) == 265
    assert get_athlete(cur, athlete_id)["ftp_w"] == 265


def test_ftp_by_day_reads_the_history_once_and_agrees_with_ftp_on(cur):
    from datetime import timedelta

    athlete_id = create_athlete(cur, validate_profile(name="A", ftp_w=240), ftp_effective_from=date(2026, 1, 1))
    update_athlete(cur, athlete_id, validate_profile(name="A", ftp_w=265), today=date(2026, 6, 1))
    update_athlete(cur, athlete_id, validate_profile(name="A", ftp_w=250), today=date(2026, 6, 20))
    no_history = create_athlete(cur, validate_profile(name="B", ftp_w=300))
    cur.execute("DELETE FROM athlete_ftp_history WHERE athlete_id = ?", [no_history])
    for who in (athlete_id, no_history):
        ftp = ftp_by_day(cur, who)
        for day in [date(2025, 12, 31) + timedelta(days=n) for n in range(0, 200, 3)] + [date(2026, 6, 1)]:
            assert ftp(day) == ftp_on(cur, who, day), day
    assert ftp_by_day(cur, athlete_id)(date(2025, 1, 1)) == 240  # before the history: its earliest entry
    assert ftp_by_day(cur, no_history)(date(2026, 1, 1)) == 300  # no history: the profile's


def test_athletes_are_listed_in_creation_order(cur):
    first = create_athlete(cur, validate_profile(name="First"))
    second = create_athlete(cur, validate_profile(name="Second"))
    assert [a["id"] for a in list_athletes(cur)] == [first, second]


def test_an_unknown_athlete_is_not_found(cur):
    with pytest.raises(NotFoundError):
        get_athlete(cur, 999)


def test_the_data_summary_counts_plans_not_their_versions(cur, athlete_id):
    from core.store.db import transaction

    with transaction(cur):
        def plan(version, parent=None, template=False):
            return cur.execute(
                "INSERT INTO plans (athlete_id, name, start_date, end_date, duration_weeks, version, parent_plan_id, "
                "is_template, plan) VALUES (?, 'P', DATE '2027-01-04', DATE '2027-01-31', 4, ?, ?, ?, '{}') "
                "RETURNING id", [athlete_id, version, parent, template]).fetchone()[0]

        first = plan(1)
        second = plan(2, first)
        plan(3, second)
        plan(1)  # another plan
        plan(1, first, template=True)  # a template is not a plan
    summary = data_summary(cur, athlete_id)
    assert (summary["plans"], summary["plan_versions"]) == (2, 4)


def test_deleting_an_athlete_needs_their_name_removes_everything_of_theirs_and_keeps_the_others(cur, athlete_id):
    from core.athletes import AthleteProfile, delete_athlete
    from core.store.db import table_counts

    keep = create_athlete(cur, AthleteProfile(name="Keeps riding", ftp_w=200))
    cur.execute("INSERT INTO rides (athlete_id, source, external_id, name, sport_type) VALUES "
                "(?, 'file', 'x1', 'Mine', 'cycling'), (?, 'file', 'x2', 'Theirs', 'cycling')", [athlete_id, keep])
    cur.execute("INSERT INTO routes (athlete_id, name, kind) VALUES (?, 'R', 'planned')", [athlete_id])
    before = table_counts(cur)
    for wrong in ("", "test rider", "Keeps riding"):
        with pytest.raises(ValidationError, match="Type the athlete's name"):
            delete_athlete(cur, athlete_id, confirm_name=wrong)
    assert table_counts(cur) == before
    deleted = delete_athlete(cur, athlete_id, confirm_name=" Test Rider ")
    assert deleted["athletes"] == 1 and deleted["rides"] == 1 and deleted["routes"] == 1
    assert [a["id"] for a in list_athletes(cur)] == [keep]
    assert cur.execute("SELECT name FROM rides").fetchall() == [("Theirs",)]
    with pytest.raises(ValidationError, match="only athlete"):
        delete_athlete(cur, keep, confirm_name="Keeps riding")
    with pytest.raises(NotFoundError):
        delete_athlete(cur, athlete_id, confirm_name="Test Rider")
