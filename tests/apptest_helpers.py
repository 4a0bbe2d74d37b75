"""Shared AppTest helpers: run a page through app.py (its links need the app's navigation) and read the database
the page wrote. AppTest shares the test process, so the cached connection is released first each time."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.store.db import connect, integrity_problems

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _release_cached_connection() -> None:
    from ui import _database

    _database.clear()


def run_app_page(page: str, **query) -> AppTest:
    """``page`` as the app runs it; ``query`` becomes the address's ?k=v."""
    _release_cached_connection()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.query_params.update({k: str(v) for k, v in query.items()})
    at.switch_page(page).run()
    return at


def read_db(db_path, sql: str) -> tuple[list[tuple], list[str]]:
    """Rows of ``sql`` and the integrity problems of the database, read on a fresh connection."""
    _release_cached_connection()
    db = connect(db_path)
    try:
        return db.cursor().execute(sql).fetchall(), integrity_problems(db.cursor())
    finally:
        db.close()
