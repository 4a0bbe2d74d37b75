"""The app's first start: the demo's newest weeks at once, the rest of the season in the background, one whole week
per transaction; a stop half-way loses no week's consistency and the next start goes on from there."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import numpy as np
import pytest
from scipy.signal import lfilter

from core.demo import (
    DemoInterrupted,
    DemoSeason,
    complete_demo_step,
    demo_progress,
    pending_demo,
    seed_demo,
    seed_demo_first_weeks,
    smooth,
)
from core.setup import DemoCompletion
from core.store.db import connect, integrity_problems, transaction
from tests.test_demo import season_fingerprint

END = date(2026, 6, 1)  # a Monday: the season's newest week ends the day before
YEARS = 0.12


def rides_by_week(cur) -> dict[date, int]:
    return {r[0]: r[1] for r in cur.execute(
        "SELECT CAST(date_trunc('week', started_at) AS DATE), count(*) FROM rides GROUP BY 1").fetchall()}


def whole_weeks(season: DemoSeason) -> dict[date, int]:
    """Rides per Monday-to-Sunday week of the whole season (its plan, not the database)."""
    return {week[0][1][0] - timedelta(days=week[0][1][0].weekday()): len(week) for week in season.weeks()}


@pytest.mark.parametrize(("gain", "pole", "start"), [(0.25, 0.75, 0.0), (0.15, 0.85, 7.5), (0.02, 0.98, 240.0),
                                                     (1 - np.exp(-1 / 35), np.exp(-1 / 35), 2.5)])
def test_the_demo_filter_is_scipys_first_order_lfilter(gain, pole, start):
    x = np.random.default_rng(3).normal(0, 50, 9_001)
    expected = lfilter([gain], [1, -pole], x, zi=[start])[0]
    np.testing.assert_allclose(smooth(x, gain, pole, start), expected, rtol=1e-9, atol=1e-9)


def test_a_first_start_seeds_the_newest_two_weeks_and_leaves_the_rest_pending(cur):
    with transaction(cur):
        result = seed_demo_first_weeks(cur, years=YEARS, end=END)
    season = pending_demo(cur)
    assert season is not None and season.athlete_id == result["athlete_id"]
    newest = season.weeks()[:2]
    assert result["rides"] == sum(len(week) for week in newest) == cur.execute(
        "SELECT count(*) FROM rides").fetchone()[0]
    stored = {r[0] for r in cur.execute("SELECT external_id FROM rides").fetchall()}
    assert stored == {f"demo-42-{index}" for week in newest for index, _ in week}
    done, total = demo_progress(cur, result["athlete_id"])
    assert (done, total) == (2, len(season.weeks())) and total > 2
    assert cur.execute("SELECT count(*) FROM plans").fetchone()[0] == 0  # the plan comes with the whole season


def test_completing_in_the_background_builds_the_same_season_as_seeding_it_at_once(db_path, tmp_path):
    whole = connect(tmp_path / "whole.duckdb")
    with transaction(whole.cursor()):
        seed_demo(whole.cursor(), years=YEARS, end=END)
    expected = season_fingerprint(whole.cursor())
    expected_routes = whole.cursor().execute("SELECT count(*) FROM rides WHERE route_id IS NOT NULL").fetchone()
    expected_plans = whole.cursor().execute("SELECT count(*), max(name) FROM plans WHERE active").fetchone()
    whole.close()

    db = connect(db_path)
    cur = db.cursor()
    with transaction(cur):
        seed_demo_first_weeks(cur, years=YEARS, end=END)
    completion = DemoCompletion(db).start()
    assert completion.running or pending_demo(cur) is None
    completion._thread.join(300)
    assert completion.error is None and pending_demo(cur) is None
    assert season_fingerprint(cur) == expected
    assert cur.execute("SELECT count(*) FROM rides WHERE route_id IS NOT NULL").fetchone() == expected_routes
    assert cur.execute("SELECT count(*), max(name) FROM plans WHERE active").fetchone() == expected_plans
    assert cur.execute("SELECT count(*) FROM routes WHERE kind = 'planned'").fetchone()[0] == 1
    assert demo_progress(cur, 1) is None and integrity_problems(cur) == []
    assert DemoCompletion(db).start().running is False  # nothing pending: no thread
    db.close()


def test_a_stop_half_way_keeps_whole_weeks_and_the_next_start_goes_on(cur):
    with transaction(cur):
        seed_demo_first_weeks(cur, years=YEARS, end=END)
    season = pending_demo(cur)
    outdoor_without_route = ("SELECT count(*) FROM rides r WHERE route_id IS NULL AND EXISTS (SELECT 1 FROM "
                             "ride_samples s WHERE s.ride_id = r.id AND s.lat IS NOT NULL)")
    assert cur.execute(outdoor_without_route).fetchone()[0] > 0  # the first weeks' routes come later …
    assert complete_demo_step(cur)
    assert cur.execute(outdoor_without_route).fetchone()[0] == 0  # … in the first step
    rides_seen = []

    def stop_after_two_rides() -> bool:  # the app stops in the middle of a week
        rides_seen.append(1)
        return len(rides_seen) > 2

    before = rides_by_week(cur)
    with pytest.raises(DemoInterrupted):
        complete_demo_step(cur, stop=stop_after_two_rides)
    assert rides_by_week(cur) == before  # the half-stored week was rolled back
    assert complete_demo_step(cur)  # the next start: one more whole week
    after = rides_by_week(cur)
    assert len(after) == len(before) + 1
    expected = whole_weeks(season)
    assert all(after[monday] == expected[monday] for monday in after)  # every stored week is whole
    while complete_demo_step(cur):
        pass
    assert rides_by_week(cur) == expected and pending_demo(cur) is None


def test_a_stopping_app_rolls_back_the_week_in_progress_and_ends_the_thread(db):
    cur = db.cursor()
    with transaction(cur):
        seed_demo_first_weeks(cur, years=YEARS, end=END)
    completion = DemoCompletion(db)
    completion._stop.set()  # stopped before its first ride: nothing more is stored
    before = rides_by_week(cur)
    completion.start()
    completion.stop()
    assert not completion.running and completion.error is None
    assert rides_by_week(cur) == before and pending_demo(cur) is not None


def test_deleting_the_demo_athlete_while_it_is_built_ends_the_building(cur):
    from core.athletes import AthleteProfile, create_athlete, delete_athlete

    with transaction(cur):
        demo = seed_demo_first_weeks(cur, years=YEARS, end=END)["athlete_id"]
    create_athlete(cur, AthleteProfile(name="Real Rider"))
    delete_athlete(cur, demo, confirm_name="Demo Rider")
    assert pending_demo(cur) is None
    assert complete_demo_step(cur) is False
    assert cur.execute("SELECT count(*) FROM rides").fetchone()[0] == 0


def test_the_background_thread_writes_under_the_write_lock_like_any_writer(db):
    """A rider's own write while the season is built waits for the week in progress, never interleaves."""
    cur = db.cursor()
    with transaction(cur):
        seed_demo_first_weeks(cur, years=YEARS, end=END)
    completion = DemoCompletion(db).start()
    writer = db.cursor()
    done = threading.Event()

    def rename() -> None:
        with transaction(writer):
            writer.execute("UPDATE athletes SET name = 'Renamed' WHERE id = 1")
        done.set()

    thread = threading.Thread(target=rename)
    thread.start()
    thread.join(120)
    completion._thread.join(300)
    assert done.is_set() and completion.error is None
    assert cur.execute("SELECT name FROM athletes").fetchone()[0] == "Renamed" and pending_demo(cur) is None


def test_the_dashboard_says_the_season_is_still_being_built(db, db_path):
    from tests.apptest_helpers import run_app_page
    from ui import _demo_completion

    cur = db.cursor()
    with transaction(cur):
        seed_demo_first_weeks(cur, years=YEARS, end=END)
    at = run_app_page("app_pages/dashboard_page.py", timeout=60)
    try:
        assert not at.exception, [e.value for e in at.exception]
        notes = [i.value for i in at.info]
        assert any("Building the rest of the demo season in the background: 2 of" in note for note in notes), notes
        assert at.get("vega_lite_chart"), "the weeks already built are drawn"
    finally:
        _demo_completion(str(db_path)).stop()  # the page started the rest of the season; stop it (rolls back)
    assert integrity_problems(cur) == []
    # Had the background work failed, the note must not promise a redraw that never comes.
    _demo_completion(str(db_path)).error = RuntimeError("disk full")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Building the rest" in i.value for i in at.info)
    assert any("could not be built" in w.value and "next start tries again" in w.value for w in at.warning)
