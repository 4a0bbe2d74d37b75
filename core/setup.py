"""First start: an empty database gets the demo athlete, route and season so no page is empty."""

from __future__ import annotations

import atexit
import logging
import threading

from core.config import Settings
from core.store.db import Database, transaction

log = logging.getLogger(__name__)


def first_run(db: Database, settings: Settings, *, newest_weeks_first: bool = False) -> dict | None:
    """Seed the demo data when the database has no athlete (in one transaction). Returns what was created.

    ``newest_weeks_first`` (the app): only the newest weeks now, so the first page draws soon; the rest of the
    season is pending for DemoCompletion."""
    cur = db.cursor()
    if cur.execute("SELECT count(*) FROM athletes").fetchone()[0]:
        return None
    if not settings.demo_seeding:
        from core.athletes import AthleteProfile, create_athlete

        return {"athlete_id": create_athlete(cur, AthleteProfile(name="Rider"))}
    from core.demo import seed_demo, seed_demo_first_weeks

    log.info("empty database: seeding the demo season")
    with transaction(cur):
        return seed_demo_first_weeks(cur) if newest_weeks_first else seed_demo(cur)


class DemoCompletion:
    """Builds the rest of a pending demo season in a background thread, one week per transaction (core.demo).

    Every step takes the process's write lock like any other writer (a rider's own change waits at most for the
    week being stored). ``stop()`` (also at interpreter exit) rolls back the week being stored; the next start
    resumes after the last committed week."""

    def __init__(self, db: Database, *, delay_s: float = 0.0):
        self._db = db
        self.delay_s = delay_s  # the app: the browser draws the first page's charts before this work begins
        self._stop = threading.Event()
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None
        self._checked = False  # a season is pending only after a first start: asked once per process
        self.error: Exception | None = None

    def start(self) -> DemoCompletion:
        """Start the thread when a demo season is pending (else do nothing); once: later calls do nothing (each
        page's rerun calls this, and the database is asked only the first time)."""
        from core.demo import pending_demo

        with self._starting:  # two sessions may finish their first page at the same moment
            if not self._checked and self._thread is None and pending_demo(self._db.cursor()) is not None:
                self._thread = threading.Thread(target=self._run, name="velocoach-demo", daemon=True)
                self._thread.start()
                atexit.register(self.stop)
            self._checked = True
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        from core.demo import DemoInterrupted, complete_demo_step

        if self._stop.wait(self.delay_s):
            return
        cur = self._db.cursor()
        try:
            while not self._stop.is_set() and complete_demo_step(cur, stop=self._stop.is_set):
                pass
            log.info("demo season complete" if not self._stop.is_set() else "demo season paused")
        except DemoInterrupted:
            log.info("demo season paused: the rest is built on the next start")
        except Exception as exc:  # noqa: BLE001 — a background thread: log it; the next start tries again
            self.error = exc
            log.exception("building the demo season failed; the next start tries again")

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)


def upgrade(db: Database) -> dict:
    """Bring rows computed by an older terrain method up to date (after migration 006: elevation, sections,
    climbs, intervals): planned routes and the newest STARTUP_RIDES rides; the Climbs page and `python -m core
    terrain refresh` do the rest. Quick when nothing is stale."""
    import duckdb

    from core.rides.terrain import STARTUP_RIDES, refresh_terrain, stale_counts
    from core.store.db import is_damage

    cur = db.cursor()
    try:
        stale = stale_counts(cur)
        if not (stale["rides"] or stale["routes"]):
            return {"routes": 0, "rides": 0}
        log.info("recomputing terrain for %d rides and %d routes (once)", stale["rides"], stale["routes"])
        return refresh_terrain(cur, limit=STARTUP_RIDES)
    except duckdb.Error as exc:
        if not is_damage(exc):
            raise
        # A damaged file still opens: the pages name the damage and the Backup page saves what can be read.
        log.warning("terrain refresh skipped: the database is damaged (%s)", exc)
        return {"routes": 0, "rides": 0}
