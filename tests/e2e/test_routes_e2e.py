"""Routes in a real browser with every non-local request blocked: upload a GPX through the file input, see the
Leaflet map (served by the app) with coloured sections, and the elevation profile; highlight a climb on both."""

from pathlib import Path

from tests.e2e.conftest import open_app, screenshot, wait_for_app

GPX = Path(__file__).resolve().parents[1] / "data" / "coursepointer__cptr003.gpx"
CDN_HOSTS = ("jsdelivr", "cdnjs", "jquery", "bootstrapcdn", "unpkg", "d3js")


def test_uploading_a_gpx_shows_the_offline_map_with_coloured_sections_and_the_profile(start_app, browser_page):
    server = start_app(VELOCOACH_SEED_DEMO="0")
    page = browser_page
    open_app(page, server, "/routes")
    wait_for_app(page)
    page.get_by_role("heading", name="Routes").wait_for()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(GPX))
    page.get_by_text("coursepointer__cptr003.gpx: route, 48.3 km").wait_for(timeout=90_000)
    wait_for_app(page)

    frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    paths = frame.locator("path.leaflet-interactive")
    paths.first.wait_for(timeout=60_000)
    strokes = {paths.nth(i).get_attribute("stroke") for i in range(paths.count())}
    # flats, descents and at least one climb colour, drawn by Leaflet itself
    assert {"#2A9D8F", "#3A86FF"} <= strokes and strokes & {"#F4A259", "#E4572E", "#B3001B", "#6A040F"}
    page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for(timeout=60_000)
    page.get_by_text("Sections", exact=True).wait_for()

    # Choosing a section draws it over the same Leaflet map (not a new one: the frame's own state survives)
    # and outlines it on the profile.
    frame.locator(".leaflet-container").evaluate("el => { window.__vcSameMap = true; }")
    box = page.get_by_role("combobox", name="Highlight a section", exact=True)
    box.click()
    page.get_by_role("option").filter(has_text="Climb").first.click()
    wait_for_app(page)
    frame.locator('path.leaflet-interactive[stroke="#111111"]').wait_for(timeout=30_000)
    assert frame.locator(".leaflet-container").evaluate("el => window.__vcSameMap === true")
    page.locator('[data-testid="stPlotlyChart"] .shapelayer path[style*="stroke-width: 2px"]').first.wait_for(
        timeout=30_000)

    page.set_viewport_size({"width": 1400, "height": 2600})  # Streamlit scrolls inside: show the whole page
    wait_for_app(page)
    page.wait_for_timeout(1500)
    shot = screenshot(page, "routes_upload_map_profile")
    assert shot.stat().st_size > 20_000
    assert "Traceback" not in page.content()
    # Leaflet came from the app; the only things blocked may be map tiles.
    assert not [url for url in page.blocked_requests if any(host in url for host in CDN_HOSTS)]
    assert all("tile.openstreetmap.org" in url for url in page.blocked_requests), page.blocked_requests
