"""The Compare page in a real browser, opened by URL (?a=ID&b=ID) with every non-local request blocked: both
charts (streams, A − B, Vega-Lite) with the pointer's tooltip, and one offline map with the two tracks."""

from __future__ import annotations

from core.athletes import AthleteProfile, create_athlete
from core.files.gpx import read_gpx
from core.store.db import connect
from tests.e2e.conftest import chart_tooltip, open_app, screenshot, wait_for_app
from tests.test_compare import STRAVA, ridden_again


def test_a_shared_link_opens_the_comparison_with_charts_and_two_track_map(tmp_path, start_app, browser_page):
    from core.rides.store import store_ride

    db_path = tmp_path / "compare-e2e.duckdb"
    database = connect(db_path)
    cur = database.cursor()
    athlete = create_athlete(cur, AthleteProfile(name="E2E Rider", ftp_w=250, lthr=165, max_hr=190, weight_kg=72))
    ride = read_gpx(STRAVA.read_bytes(), STRAVA.name)
    a = store_ride(cur, athlete, ride, source="file", external_id="strava", source_file=STRAVA.name).id
    b = store_ride(cur, athlete, ridden_again(ride), source="file", external_id="again").id
    database.close()

    app = start_app(db_path, VELOCOACH_SEED_DEMO="0")
    page = browser_page
    open_app(page, app, f"/compare?a={a}&b={b}")
    wait_for_app(page)
    page.get_by_text("Difference A − B").first.wait_for()
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    page.locator(".st-key-compare_delta_chart").locator("canvas, svg.marks").first.wait_for()
    assert charts.count() == 2 and page.locator('[data-testid="stPlotlyChart"]').count() == 0
    # the pointer over the streams shows each ride's values at that moment, A's and B's
    tooltip = chart_tooltip(page, "compare_streams_chart")
    assert {"at", "A Power (W)", "B Power (W)", "A Elevation (m)", "B Elevation (m)"} <= set(tooltip)
    screenshot(page, "compare-by-url-streams")
    # The map is a component iframe; Leaflet (served by the app) draws one path per track.
    frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    tracks = frame.locator("path.leaflet-interactive")
    tracks.nth(1).wait_for()
    strokes = {tracks.nth(i).get_attribute("stroke") for i in range(tracks.count())}
    assert {"#E4572E", "#3A86FF"} <= {s.upper() if s else s for s in strokes}
    assert page.get_by_text("Shared climbs").first.is_visible()
    page.get_by_text("Tracks").first.scroll_into_view_if_needed()
    shot = screenshot(page, "compare-by-url")
    assert shot.stat().st_size > 20_000
    assert "Traceback" not in page.content()
    # The URL still names the two rides (shareable), and nothing left the machine except blocked tile requests.
    assert f"a={a}" in page.url and f"b={b}" in page.url
    assert all("tile.openstreetmap.org" in url for url in page.blocked_requests), page.blocked_requests
