"""Plans page in a real browser: open the demo plan's calendar, go to next week, move a workout onto the rest day
its rules keep, see the move refused naming the rule, save it with the explicit override, and see the new version,
its recorded rule check and the workout on its new day."""

import re
from datetime import date, timedelta

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.conftest import open_app, screenshot, wait_for_app

DAY_LABEL = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d \w{3} · ")


def _open_combobox(page, name: str) -> list[str]:
    """Open a Streamlit selectbox (react-aria ComboBox: the arrow key opens it) and return its options' texts."""
    box = page.get_by_role("combobox", name=name, exact=True)
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-expanded", "true")
    return page.get_by_role("option").all_inner_texts()


def _choose(page, name: str, prefix: str) -> None:
    box = page.get_by_role("combobox", name=name, exact=True)
    wanted = re.compile("^" + re.escape(prefix))
    option = page.get_by_role("option", name=wanted).first
    # A rerun that lands while the list is open draws the box again, closed, or with its old value after the
    # click: open it and choose again (the rider would too).
    for attempt in range(3):
        wait_for_app(page)
        if box.get_attribute("aria-expanded") != "true":
            box.press("ArrowDown")
        try:
            option.wait_for(timeout=10_000)
            option.click()
            expect(box).to_have_value(wanted, timeout=5_000)
            break
        except (PlaywrightTimeoutError, AssertionError):
            if attempt == 2:
                raise
    wait_for_app(page)


def test_a_workout_moved_on_the_calendar_becomes_a_new_checked_version(start_app, browser_page):
    server = start_app()
    page = browser_page
    open_app(page, server, "/plans")
    page.get_by_role("button", name="Next ▶").wait_for()
    wait_for_app(page)
    expect(page.locator("table.vc-cal")).to_be_visible()
    this_monday = date.today() - timedelta(days=date.today().weekday())
    page.locator('[data-testid="stRadio"] label').filter(has_text="Week").click()
    expect(page.get_by_text(f"Week of {this_monday:%a %d %b %Y}", exact=True)).to_be_visible()
    wait_for_app(page)
    page.get_by_role("button", name="Next ▶").click()  # next week: every day of it can still change
    next_monday = this_monday + timedelta(days=7)
    expect(page.get_by_text(f"Week of {next_monday:%a %d %b %Y}", exact=True)).to_be_visible()
    wait_for_app(page)
    days = [t for t in _open_combobox(page, "Day") if DAY_LABEL.match(t)]
    assert len(days) == 7
    # The demo's rules: rest on Mondays ("Rest day"), the long ride on Saturday, at most 9 hours a week. Moving a
    # ride of next week onto its Monday breaks "Rest day": refused, naming the rule, then saved only with the
    # rider's explicit override, which the new version records.
    source = next(t for t in days if " · rest · " not in t and not t.startswith(("Mon", "Sat")))
    monday = days[0][:10]
    assert monday.startswith("Mon")
    source_day, moved = source[:10], source.split(" · ")[1]
    page.get_by_role("option", name=re.compile("^" + re.escape(source_day))).first.click()
    wait_for_app(page)
    expect(page.get_by_role("combobox", name="Change this day", exact=True)).to_have_value("Move to another day")
    _choose(page, "To", monday)
    page.get_by_role("button", name="Save as a new version").click()
    wait_for_app(page)
    refusal = page.get_by_text(re.compile(r"^Not saved — Moved "))
    expect(refusal).to_be_visible()
    assert "“Rest day”" in refusal.inner_text() and "on a rest day" in refusal.inner_text()
    expect(page.get_by_role("combobox", name="Plan", exact=True)).to_have_value(re.compile(r" · v1 · "))
    screenshot(page, "plans_calendar_refused")
    page.get_by_text("Save anyway: I choose to break this rule").click()
    wait_for_app(page)
    page.get_by_role("button", name="Save as a new version").click()
    wait_for_app(page)
    message = page.get_by_text(re.compile(r"^Saved version v2: Moved "))
    expect(message).to_be_visible()
    assert "Saved with your override of: " in message.inner_text() and "breaks “Rest day”" in message.inner_text()
    expect(page.get_by_role("combobox", name="Plan", exact=True)).to_have_value(re.compile(r" · v2 · "))
    # The calendar shows the new version: Monday now carries the workout, the source day is a rest day.
    options = [t for t in _open_combobox(page, "Day") if DAY_LABEL.match(t)]
    page.keyboard.press("Escape")
    assert any(t.startswith(monday) and moved in t for t in options), options
    assert any(t.startswith(source_day) and " · rest · " in t for t in options), options
    expect(page.locator("table.vc-cal")).to_contain_text(moved.split(" · ")[0])
    expect(page.get_by_text(re.compile(r"saved with an override of: .*breaks “Rest day”")).first).to_be_attached()
    message.scroll_into_view_if_needed()
    screenshot(page, "plans_calendar_move")
    assert "Traceback" not in page.content()
    assert all("127.0.0.1" not in url for url in page.blocked_requests)
