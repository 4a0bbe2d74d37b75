"""Health page in a real browser on the demo database: every section, the full table check, the audit filter."""

from tests.e2e.conftest import open_app, screenshot, wait_for_app


def test_the_health_page_shows_the_installation_and_checks_every_table(start_app, browser_page):
    server = start_app()
    page = browser_page
    open_app(page, server, "/health")
    page.get_by_role("heading", name="Health").first.wait_for()
    for section in ("Database", "AI service", "Garmin", "Recent problems", "Audit log", "Settings and feature flags"):
        page.get_by_role("heading", name=section).first.wait_for()
    page.get_by_role("button", name="Read every table now").click()
    page.get_by_text("the database is whole").wait_for(timeout=120_000)
    wait_for_app(page)
    shot = screenshot(page, "health_page")
    assert shot.stat().st_size > 10_000
    assert "Traceback" not in page.content()
    assert all("127.0.0.1" not in url for url in page.blocked_requests)
