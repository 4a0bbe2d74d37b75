"""First start: an empty database gets the demo athlete, route and season so no page is empty."""

from __future__ import annotations

import logging

from core.config import Settings
from core.store.db import Database, transaction

log = logging.getLogger(__name__)


def first_run(db: Database, settings: Settings) -> dict | None:
    """Seed the demo data when the database has no athlete (in one transaction). Returns what was created."""
    cur = db.cursor()
    if cur.execute("SELECT count(*) FROM athletes").fetchone()[0]:
        return None
    if not settings.demo_seeding:
        from core.athletes import AthleteProfile, create_athlete

        return {"athlete_id": create_athlete(cur, AthleteProfile(name="Rider"))}
    from core.demo import seed_demo

    log.info("empty database: seeding the demo season")
    with transaction(cur):
        return seed_demo(cur)


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
