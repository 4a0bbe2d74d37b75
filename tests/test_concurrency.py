"""No lost writes: the app's model is one DuckDB connection and a cursor per thread (a Streamlit session is a
thread). Before migration 007 every write updated one shared data_version row, and two sessions importing at
once lost one ride to DuckDB's "Conflict on update!" (8 parallel imports stored 1 ride)."""

from __future__ import annotations

import threading

import pytest

from core.errors import WriteConflictError
from core.importer import import_file
from core.store.db import data_version, integrity_problems, retrying, transaction

RIDE_FILES = ("fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit", "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit",
              "fitparse__nick.fit", "gc__Garmin830_with_Stages.fit",
              "gc__Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit", "sweatpy__4078723797.fit",
              "sweatpy__4078723797_strava.gpx", "sweatpy__activity_4078723797.gpx")
ROUTE_FILES = ("coursepointer__cptr003.gpx", "georust__strava_route_example.gpx", "gpxpy__cerknicko-jezero.gpx")


def _run_in_threads(jobs) -> list:
    """Start every job at once (a barrier), wait for all; returns each job's result or exception."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        barrier.wait()
        try:
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 — the test reports every failure
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def test_parallel_imports_from_several_sessions_store_every_ride_and_route(db, athlete_id, data_dir):
    version = data_version(db.cursor())

    def importer(folder, name, kind=None):
        data = (data_dir / folder / name).read_bytes() if folder else (data_dir / name).read_bytes()
        return lambda: import_file(db.cursor(), athlete_id, name, data, as_kind=kind)  # this thread's cursor

    jobs = [importer("rides", name) for name in RIDE_FILES] + [importer("", name, "route") for name in ROUTE_FILES]
    results = _run_in_threads(jobs)

    failures = [r for r in results if not isinstance(r, dict) or not r["ok"]]
    assert failures == []
    cur = db.cursor()
    # Every file is a rides row (the three sweatpy files are one ride: two of them are linked, not copied).
    assert cur.execute("SELECT count(*) FROM rides WHERE athlete_id = ?", [athlete_id]).fetchone()[0] == len(RIDE_FILES)
    assert cur.execute("SELECT count(*) FROM rides WHERE duplicate_of IS NOT NULL").fetchone()[0] == 2
    assert cur.execute("SELECT count(*) FROM routes WHERE kind = 'planned'").fetchone()[0] == len(ROUTE_FILES)
    assert data_version(cur) >= version + len(jobs)
    assert integrity_problems(cur) == []


def test_the_data_version_grows_only_when_a_change_commits(cur, athlete_id):
    from core.store.db import bump_data_version

    before = data_version(cur)
    with pytest.raises(RuntimeError), transaction(cur):
        bump_data_version(cur)
        raise RuntimeError("the change fails")
    assert data_version(cur) == before
    with transaction(cur):
        bump_data_version(cur)
        bump_data_version(cur)
    assert data_version(cur) == before + 2


def test_a_real_write_conflict_is_retried_until_the_change_lands(db, athlete_id):
    ours, theirs = db.connection.cursor(), db.connection.cursor()
    # Another writer that does not use transaction() (so not our lock) holds the athlete's row.
    theirs.execute("BEGIN TRANSACTION")
    theirs.execute("UPDATE athletes SET name = 'theirs' WHERE id = ?", [athlete_id])
    attempts = []

    def rename():
        attempts.append(1)
        if len(attempts) == 2:
            theirs.execute("COMMIT")  # the other writer finishes before our second try
        with transaction(ours):
            ours.execute("UPDATE athletes SET name = 'ours' WHERE id = ?", [athlete_id])

    retrying(ours, rename)
    assert len(attempts) == 2
    assert ours.execute("SELECT name FROM athletes WHERE id = ?", [athlete_id]).fetchone()[0] == "ours"


def test_a_conflict_that_never_clears_is_reported_and_changes_nothing(db, athlete_id):
    ours, theirs = db.connection.cursor(), db.connection.cursor()
    theirs.execute("BEGIN TRANSACTION")
    theirs.execute("UPDATE athletes SET name = 'theirs' WHERE id = ?", [athlete_id])

    def rename():
        with transaction(ours):
            ours.execute("INSERT INTO tags (athlete_id, name) VALUES (?, 'kept?')", [athlete_id])
            ours.execute("UPDATE athletes SET name = 'ours' WHERE id = ?", [athlete_id])

    with pytest.raises(WriteConflictError, match="nothing was changed"):
        retrying(ours, rename, attempts=2, pause_s=0)
    theirs.execute("ROLLBACK")
    assert ours.execute("SELECT count(*) FROM tags").fetchone()[0] == 0
