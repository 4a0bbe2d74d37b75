"""The Power page in a real browser on the demo database: the fitted model over the MMP points, the proposal,
approving it."""

from __future__ import annotations

from tests.e2e.conftest import open_app, screenshot, wait_for_app


def test_the_power_page_shows_the_model_and_approving_sets_the_ftp(start_app, browser_page):
    server = start_app()
    page = browser_page
    open_app(page, server, "/power")
    wait_for_app(page)
    main = page.locator('[data-testid="stMain"]')
    page.get_by_role("heading", name="Power").wait_for()
    page.get_by_text("FTP proposal:").wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for()
    assert "No model in this window" not in main.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0
    shot = screenshot(page, "power_page")
    assert shot.stat().st_size > 20_000
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("ride(s) since then keep their old figures").wait_for(timeout=60_000)
    page.get_by_text("No FTP proposal: eFTP").wait_for()
    assert page.blocked_requests == []
