"""The app starts with `streamlit run`, renders offline, and its navigation reaches every page."""

from tests.e2e.conftest import open_app, screenshot, wait_for_app

TITLES = ["Dashboard", "Rides", "Ride", "Power", "Routes", "Compare", "Coach", "Plans", "Garmin sync", "Settings", "Backup"]


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


def test_every_page_opens_on_the_demo_database_with_no_error(start_app, browser_page):
    server = start_app()
    page = browser_page
    open_app(page, server)
    for title in TITLES:
        page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
        wait_for_app(page)
        page.locator('[data-testid="stMain"] h1').first.wait_for()
        assert page.locator('[data-testid="stException"]').count() == 0, title
        assert "Something went wrong" not in page.locator('[data-testid="stMain"]').inner_text(), title
    screenshot(page, "app_demo_backup")
