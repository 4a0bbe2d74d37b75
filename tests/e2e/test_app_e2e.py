"""The app starts with `streamlit run`, renders offline, and its navigation reaches every page."""

from tests.e2e.conftest import open_app, screenshot, wait_for_app

TITLES = ["Dashboard", "Rides", "Ride", "Power", "Routes", "Climbs", "Compare", "Coach", "Plans", "Garmin sync", "Settings",
          "Backup", "Health"]


def nav_titles(page) -> list[str]:
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Dashboard").wait_for()
    labels = [t.strip() for t in nav.inner_text().split("\n") if t.strip()]
    return [t for t in labels if t[0].isupper()]  # the rest are material icon names


def test_a_cold_deep_link_still_runs_the_page_through_the_app(start_app, browser_page):
    server = start_app(VELOCOACH_SEED_DEMO="0")
    page = browser_page
    page.goto(f"{server.url}/settings")
    wait_for_app(page)
    page.get_by_role("button", name="Save profile").wait_for()
    assert nav_titles(page) == TITLES  # app.py ran (not the legacy pages-folder runner)


def test_the_app_renders_offline_with_navigation(start_app, browser_page):
    server = start_app(VELOCOACH_SEED_DEMO="0")
    page = browser_page
    open_app(page, server, "/settings")
    page.get_by_role("heading", name="Settings").wait_for()
    page.get_by_role("button", name="Save profile").wait_for()
    ftp = page.get_by_role("spinbutton", name="FTP (W)").first
    ftp.wait_for(state="visible")
    assert ftp.input_value() == "0"
    assert nav_titles(page) == TITLES
    assert page.get_by_text("Page not found").count() == 0
    shot = screenshot(page, "app_settings")
    assert shot.stat().st_size > 10_000
    assert "Traceback" not in page.content()
    # Nothing but localhost was needed (blocked requests would be fonts/tiles the app must not depend on).
    assert page.blocked_requests == []


def test_legacy_page_addresses_on_a_fresh_server_never_run_a_page_file_outside_the_app(start_app, browser_page):
    """Streamlit's old pages-folder mode would run app_pages/compare_page.py directly for /compare_page (no page
    config, no error guard) on a fresh server; the page script's navigation must run instead. Deeper addresses
    (/pages/…) load no app at all: Streamlit's index page asks for its scripts relative to them."""
    server = start_app(VELOCOACH_SEED_DEMO="0")
    page = browser_page
    sessions = []
    page.on("websocket", lambda ws: sessions.append(ws.url))
    for path in ("/compare_page?a=1&b=2", "/compare_page.py", "/app_pages"):  # the first is the first session
        page.goto(f"{server.url}{path}")
        wait_for_app(page)
        assert nav_titles(page) == TITLES, path  # navigation.py ran: every page of the app is listed
        assert page.locator('[data-testid="stException"]').count() == 0, path
        assert "Traceback" not in page.content(), path
    before = len(sessions)
    for path in ("/pages/compare_page.py", "/app_pages/compare_page.py?a=1"):
        page.goto(f"{server.url}{path}")
        page.wait_for_timeout(2000)
        assert page.locator('[data-testid="stApp"]').count() == 0, path
        assert "Traceback" not in page.content(), path
    assert len(sessions) == before  # no session was opened, so no script of ours ran
