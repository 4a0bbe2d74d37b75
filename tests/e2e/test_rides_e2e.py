"""Rides then Ride in a real browser: upload a FIT file, see the per-file result, open the ride (?id=N) and see
its charts and zones."""

from __future__ import annotations

import re
from pathlib import Path

from core.athletes import AthleteProfile, create_athlete
from core.store.db import connect
from tests.e2e.conftest import chart_tooltip, open_app, screenshot, wait_for_app

FIT = Path(__file__).resolve().parents[1] / "data" / "rides" / "gc__Garmin830_with_Stages.fit"


def test_uploading_a_fit_file_shows_its_charts(tmp_path, start_app, browser_page):
    db_path = tmp_path / "rides-e2e.duckdb"
    database = connect(db_path)
    create_athlete(database.cursor(), AthleteProfile(name="E2E Rider", ftp_w=250, lthr=165, max_hr=190))
    database.close()
    app = start_app(db_path, VELOCOACH_SEED_DEMO="0")
    page = browser_page
    open_app(page, app, "/rides")
    wait_for_app(page)
    # one drop zone: a dropped file is imported at once, with a link to the new ride
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(FIT))
    page.get_by_text("Imported 1 of 1 file (1 ride).").wait_for(timeout=60_000)
    page.get_by_text(f"{FIT.name}: ride of").wait_for()
    wait_for_app(page)
    page.get_by_text("1 rides match").wait_for()
    page.get_by_role("link", name=re.compile(r"^Open ride #\d+")).click()
    page.wait_for_url("**/ride?id=*")
    wait_for_app(page)
    page.get_by_role("heading", name="Ride", exact=True).wait_for()
    page.get_by_text("No GPS in this ride (indoor): no map.").wait_for()
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    # the pointer over a band shows every stream's value at that moment
    tooltip = chart_tooltip(page, "ride_streams_chart", 0.15)
    # streams (W′ balance a band of them), power zones, HR zones, power curve
    assert charts.count() == 4 and page.locator('[data-testid="stPlotlyChart"]').count() == 0
    assert {"at", "Power (W)", "Heart rate (bpm)", "Cadence (rpm)", "W′ balance (kJ)"} <= set(tooltip)
    at, *values = tooltip.values()
    assert re.fullmatch(r"[\d.]+ min", at) and all(re.fullmatch(r"-?[\d,.]+", v) for v in values)
    page.get_by_text("Drag or scroll in the chart to pan and zoom every stream").wait_for()
    page.locator(".st-key-ride_power_curve").scroll_into_view_if_needed()
    shot = screenshot(page, "ride-detail-fit")
    assert shot.stat().st_size > 20_000
    assert "Traceback" not in page.content()
    assert page.blocked_requests == []
