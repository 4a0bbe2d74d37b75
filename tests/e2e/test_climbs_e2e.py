"""The Climbs page in a real browser on the demo season: climbs from the demo route and rides, each with its
efforts fastest first and the record marked, the next one picked in the same chart, reached from a ride's "All
efforts on …" link."""

from tests.e2e.conftest import open_app, screenshot, wait_for_app


def test_a_rides_climb_link_opens_the_climb_with_its_efforts_fastest_first(start_app, browser_page):
    server = start_app()
    page = browser_page
    open_app(page, server, "/climbs")
    wait_for_app(page)
    page.get_by_role("heading", name="Climbs").wait_for()
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Efforts, fastest first").wait_for(timeout=60_000)
    # Picking the next climb swaps the chart's rows in the chart already drawn (a new chart took ~0.3 s more)
    marks = main.locator('[data-testid="stVegaLiteChart"]').locator("canvas, svg.marks").first
    marks.wait_for(timeout=60_000)
    marks.evaluate("el => { el.__vcSameChart = true; }")
    heading = main.locator("h3").first.inner_text()
    box = page.get_by_role("combobox", name="Climb", exact=True)
    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_function("h => document.querySelector('[data-testid=\"stMain\"] h3')?.innerText !== h", arg=heading)
    wait_for_app(page)
    assert marks.evaluate("el => el.__vcSameChart === true")
    page.get_by_role("link", name="Open the record ride").click()
    wait_for_app(page)
    page.get_by_text("Efforts on your climbs").wait_for(timeout=60_000)
    page.get_by_text("Intervals").first.wait_for()
    page.set_viewport_size({"width": 1400, "height": 3400})
    wait_for_app(page)
    page.wait_for_timeout(1500)
    screenshot(page, "ride_intervals_efforts")
    page.get_by_role("link", name="All efforts on").first.click()
    wait_for_app(page)
    main.get_by_text("Efforts, fastest first").wait_for(timeout=60_000)
    assert "/climbs?id=" in page.url
    assert page.locator('[data-testid="stException"]').count() == 0
    page.set_viewport_size({"width": 1400, "height": 1800})
    wait_for_app(page)
    page.wait_for_timeout(1500)
    shot = screenshot(page, "climbs_efforts")
    assert shot.stat().st_size > 20_000
    assert "Traceback" not in page.content()
