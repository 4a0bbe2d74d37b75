"""Backup page through AppTest: downloads are offered; an upload is previewed, then restored; a bad one is refused."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.store import backup_export
from core.store.db import connect, table_counts, transaction
from tests.apptest_helpers import run_app_page, shown
from tests.test_backup_helpers import small_athlete

PAGE = str(Path(__file__).resolve().parent.parent / "app_pages" / "backup_page.py")


def _seed(db_path: Path) -> bytes:
    """A small athlete with a planned route; returns its JSON backup (no rides: it can be restored again)."""
    db = connect(db_path)
    cur = db.cursor()
    athlete_id = small_athlete(cur, "Page Rider")
    with transaction(cur):
        route_id = cur.execute("INSERT INTO routes (athlete_id, name, kind, distance_m, point_count) VALUES "
                               "(?, 'Coast loop', 'planned', 2400, 3) RETURNING id", [athlete_id]).fetchall()[0][0]
        cur.execute("INSERT INTO route_points VALUES (?, 0, 41.9, 2.8, 100, 0), (?, 1, 41.91, 2.8, 120, 1112), "
                    "(?, 2, 41.92, 2.81, 110, 2400)", [route_id] * 3)
    data = backup_export.export_json(cur, athlete_id)
    db.close()
    return data


def _counts(db_path: Path) -> dict:
    db = connect(db_path)
    try:
        return table_counts(db.cursor())
    finally:
        db.close()


def _open() -> AppTest:
    return run_app_page("app_pages/backup_page.py")


def test_the_page_offers_a_backup_download_and_gpx_of_a_route(db_path):
    _seed(db_path)
    at = _open()
    assert not at.exception
    assert at.title[0].value == "Backup"
    at.button(key="backup_prepare").click().run()
    assert not at.exception
    download = at.get("download_button")
    assert download and "velocoach-page-rider-" in shown(download[0].proto.label) and ".zip" in shown(download[0].proto.label)
    assert any(c.value == "No rides yet." for c in at.caption)  # the ride search (pickers: test_rides_page)
    at.radio(key="gpx_kind").set_value("route").run()
    at.button(key="gpx_prepare").click().run()
    labels = [shown(d.proto.label) for d in at.get("download_button")]
    assert "Download coast-loop.gpx" in labels


def test_an_uploaded_backup_is_previewed_then_restored_as_a_new_athlete(db_path):
    data = _seed(db_path)
    at = _open()
    at.get("file_uploader")[0].set_value(("page.json", data, "application/json")).run()
    assert not at.exception and not at.error
    assert any("Page Rider" in m.value for m in at.markdown)
    assert any(" rides, " in m.value and " route" in m.value for m in at.markdown)  # counts, not only dates
    preview = at.dataframe[0].value
    assert list(preview.columns) == ["What", "Rows"] and "Route points" in set(preview["What"])
    assert _counts(db_path)["athletes"] == 1  # a preview writes nothing
    at.button(key="backup_restore").click().run()
    assert not at.exception
    assert at.success and "page.json: restored as athlete #" in shown(at.success[0].value)
    counts = _counts(db_path)
    assert counts["athletes"] == 2 and counts["plans"] == 4 and counts["route_points"] == 6


def test_a_bad_upload_shows_the_reason_and_restores_nothing(db_path):
    data = _seed(db_path)
    document = json.loads(data)
    document["format_version"] = 7
    at = _open()
    before = _counts(db_path)  # after the app's start (which brings rows of an older terrain method up to date)
    at.get("file_uploader")[0].set_value(("future.json", json.dumps(document).encode(), "application/json")).run()
    assert not at.exception
    assert at.error and "future.json" in shown(at.error[0].value) and "newer VeloCoach" in at.error[0].value
    assert not [b for b in at.button if b.key == "backup_restore"]
    at.run()  # the reason stays on screen across reruns
    assert at.error and "newer VeloCoach" in at.error[0].value
    assert _counts(db_path) == before
