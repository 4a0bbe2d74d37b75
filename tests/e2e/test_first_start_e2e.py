"""The very first start on an empty database: the Dashboard draws the demo's newest weeks at once, says the rest
of the season is being built, and redraws with the whole season and its plan when the background work is done."""

from tests.e2e.conftest import screenshot


def test_the_first_start_draws_the_newest_weeks_first_and_then_the_whole_season(start_app, browser_page, tmp_path):
    server = start_app(tmp_path / "first.duckdb", VELOCOACH_SEED_DEMO="1")
    page = browser_page
    page.goto(server.url)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("heading", name="Dashboard").wait_for(timeout=120_000)
    page.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks').first.wait_for(
        state="visible", timeout=60_000)
    note = main.get_by_text("Building the rest of the demo season in the background")
    note.wait_for(timeout=30_000)
    screenshot(page, "first_start_building")
    # No refresh by the rider: the page redraws itself when the season is complete.
    note.wait_for(state="detached", timeout=240_000)
    main.get_by_text("Demo: 12-week build").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "No active training plan" not in main.inner_text()
    screenshot(page, "first_start_complete")
