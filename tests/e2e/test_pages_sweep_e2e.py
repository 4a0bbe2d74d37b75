"""Every page of the navigation opens on the demo database with no error, and at a 1280 px window no metric card's
value is cut off (scrollWidth ≤ clientWidth for each [data-testid=stMetricValue], each tile of an HTML tile grid
(the Ride page's) and what it holds); a full-page
screenshot of each (test-artifacts/sweep_<width>_<page>.png) to look at.

1280 px is the narrowest common laptop window. A page's columns are laid out by the script, which does not know the
window's width, so a wider window only widens the same cards; a second sweep at 1920 px (dropped for the suite's
time, issue 17) could only pass where this one does."""

from tests.e2e.conftest import open_app, screenshot, wait_for_app
from tests.e2e.test_app_e2e import TITLES

CUT_OFF_METRICS = """() => [...document.querySelectorAll(
        '[data-testid="stMetricValue"], [data-testid="stMetricDelta"], .vc-tile')].flatMap(card =>
    [card, ...card.querySelectorAll('*')].filter(el => el.scrollWidth > el.clientWidth + 1)
        .map(el => card.innerText.trim()))"""


WIDTH = 1280


def test_every_page_opens_with_no_error_and_whole_metric_values(start_app, browser_page):
    server = start_app()
    page = browser_page
    page.set_viewport_size({"width": WIDTH, "height": 1800})  # tall: the screenshots show most of each page
    open_app(page, server)
    cut_off, cards = {}, 0
    for title in TITLES:
        page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
        wait_for_app(page)
        page.locator('[data-testid="stMain"] h1').first.wait_for()
        assert page.locator('[data-testid="stException"]').count() == 0, title
        assert "Something went wrong" not in page.locator('[data-testid="stMain"]').inner_text(), title
        cards += page.locator('[data-testid="stMetricValue"], .vc-tile').count()
        values = page.evaluate(CUT_OFF_METRICS)
        if values:
            cut_off[title] = sorted(set(values))
        screenshot(page, f"sweep_{WIDTH}_{title.lower().replace(' ', '_')}")
        if title == "Settings":  # the check itself sees a value that does not fit
            page.evaluate("""() => { document.querySelector('.vc-tile dd.vc-value').textContent =
                                         '1234567890'.repeat(6); }""")
            assert page.evaluate(CUT_OFF_METRICS)
    assert cards > 20  # the sweep saw the cards (Dashboard, Ride, Power, Routes, Plans, Settings…)
    assert cut_off == {}
