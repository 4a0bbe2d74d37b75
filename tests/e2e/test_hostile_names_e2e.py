"""Hostile names through every page in a real browser: routes and rides (GPX and FIT) whose names, file names and
tags try to become script, markup, links or remote images; the same typed into the UI (an upload, a rename, a
tag) and put in the address. One server and one browser for all the visits.

After every visit: no dialog opened, no ``__xss`` mark on ``window`` or ``window.parent`` of any frame, no link or
image to evil.test in any frame, no request to a host other than this computer (map tiles from OpenStreetMap are
the one expected outside request; the browser blocks them), and the names shown as the text they are."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from core.views.text import plain
from tests.e2e.conftest import AppServer, chromium_page, screenshot, wait_for_app
from tests.hostile import (
    BACKTICK,
    CONTROL,
    IMG_ONERROR,
    LONG,
    MD_IMAGE,
    MD_LINK,
    NAMES,
    SCRIPT_END,
    TEMPLATE_LITERAL,
)

FIT = Path(__file__).resolve().parents[1] / "data" / "rides" / "gc__Garmin830_with_Stages.fit"
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
TAGS = ["T ${(window.parent.__xss=5,alert(8))}", "![t](http://evil.test/t.png)", "<img src=x onerror=alert(9)>"]
TYPED_TAG = "`${window.parent.__xss=6}`</script>"
TYPED_NAME = "Renamed ${(window.parent.__xss=7,alert(10))} `\\` [a](http://evil.test)"
UPLOAD_NAME = "Uploaded <img src=x onerror=window.parent.__xss=8> ${alert(11)}"
FIT_FILE_NAME = "[fit](http:evil.test) ${alert(12)} <img src=x onerror=alert(13)>.fit"

CHECK_FRAME = """() => {
  const marks = [];
  for (const w of [window, window.parent, window.top]) { try { if (w.__xss !== undefined) marks.push(String(w.__xss)); } catch (e) {} }
  const evil = Array.from(document.querySelectorAll('a[href], img[src], link[href], script[src], iframe[src]'))
    .filter(e => (e.getAttribute('href') || e.getAttribute('src') || '').includes('evil.test'))
    .map(e => e.outerHTML.slice(0, 300) + ' IN ' + (e.parentElement ? e.parentElement.outerHTML.slice(0, 500) : ''));
  const images = Array.from(document.querySelectorAll('img')).map(i => i.getAttribute('src') || '')
    .filter(src => src === 'x');
  return {marks, evil, images};
}"""
# Layers are globals of the map's frame, or (a layer streamlit-folium evaluates over a kept map: the Ride page's
# track) reachable only through the map.
OPEN_TOOLTIPS = """() => {
  const texts = [];
  const layers = new Set(Object.keys(window).map((key) => window[key]));
  if (window.map && window.map._layers) Object.values(window.map._layers).forEach((layer) => layers.add(layer));
  for (const layer of layers) {
    try {
      if (layer && typeof layer.getTooltip === 'function' && layer.getTooltip()) {
        layer.openTooltip();
        const element = layer.getTooltip().getElement();
        if (element) texts.push(element.textContent.replace(/\\s+/g, ' ').trim());
      }
    } catch (e) {}
  }
  return texts;
}"""


def gpx_name(name: str) -> str:
    return XML_INVALID.sub("", name)


def gpx_bytes(name: str, start: datetime | None, lat0: float) -> bytes:
    """A 3 km line north with a 60 m climb; timed when ``start`` is given (a ride), else a route."""
    points = []
    for i in range(150):
        ele = 100 + (i * 0.8 if i < 75 else 60 - (i - 75) * 0.8)
        time = f"<time>{(start + timedelta(seconds=10 * i)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time>" if start else ""
        points.append(f'<trkpt lat="{lat0 + i * 0.0002:.6f}" lon="6.000000"><ele>{ele:.1f}</ele>{time}</trkpt>')
    return (f'<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" '
            f'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>{escape(gpx_name(name))}</name><trkseg>'
            + "".join(points) + "</trkseg></trk></gpx>").encode()


def build_hostile_database(path: Path) -> dict:
    from core.athletes import AthleteProfile, create_athlete
    from core.coach.plans.generate import generate_plan
    from core.coach.plans.store import save_plan
    from core.coach.rules.store import save_rule
    from core.importer import import_file
    from core.rides.store import add_tag, get_ride
    from core.store.db import connect, transaction

    db = connect(path)
    cur = db.cursor()
    athlete = create_athlete(cur, AthleteProfile(name=TEMPLATE_LITERAL, ftp_w=250, lthr=165, max_hr=190,
                                                 weight_kg=70))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    rides, routes = {}, {}
    for i, name in enumerate(NAMES):
        routes[name] = import_file(cur, athlete, f"route{i}.gpx", gpx_bytes(name, None, 45.0 + i * 0.01))["id"]
        rides[name] = import_file(cur, athlete, f"ride{i}.gpx",
                                  gpx_bytes(name, start + timedelta(days=i), 45.0 + i * 0.01))["id"]
    fit = import_file(cur, athlete, FIT_FILE_NAME, FIT.read_bytes())["id"]
    stored = {name: get_ride(cur, athlete, ride)["name"] for name, ride in rides.items()}
    stored[FIT_FILE_NAME] = get_ride(cur, athlete, fit)["name"]
    for tag in TAGS:
        add_tag(cur, athlete, list(rides.values()), tag)
    rule = save_rule(cur, athlete, "no intervals on Mondays", name=MD_LINK)
    plan = generate_plan(cur, athlete, {"duration_weeks": 4, "name": MD_IMAGE, "rule_ids": [rule["id"]],
                                        "start_date": (datetime.now(UTC) - timedelta(days=7)).date().isoformat()})
    save_plan(cur, athlete, plan, activate=True)
    with transaction(cur):
        cur.execute("INSERT INTO garmin_accounts (athlete_id, label) VALUES (?, ?)", [athlete, IMG_ONERROR])
    db.close()
    return {"rides": rides, "routes": routes, "fit": fit, "stored": stored}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    ids = build_hostile_database(folder / "hostile.duckdb")
    server = AppServer(folder / "hostile.duckdb", {"VELOCOACH_SEED_DEMO": "0"})
    try:
        with chromium_page() as page:
            page.goto(server.url)
            wait_for_app(page)
            yield server, page, ids
    finally:
        server.stop()


def visit(page, server, path: str, settle_ms: int = 400) -> None:
    page.goto(f"{server.url}{path}")
    wait_for_app(page)
    page.wait_for_timeout(settle_ms)  # maps and charts draw in their own frames after the script run
    assert_inert(page, path)


def go(page, title: str, settle_ms: int = 400) -> None:
    """Open a page through the sidebar (a rerun in the same session), then check it as ``visit`` does."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    wait_for_app(page)
    page.get_by_role("heading", name=title.split()[0]).first.wait_for()
    page.wait_for_timeout(settle_ms)
    assert_inert(page, title)


def assert_inert(page, where: str) -> None:
    for frame in page.frames:
        try:
            found = frame.evaluate(CHECK_FRAME)
        except Exception:  # noqa: BLE001 — a frame that went away while we looked
            continue
        assert found == {"marks": [], "evil": [], "images": []}, (where, frame.url, found)
    assert page.dialogs == [], (where, page.dialogs)
    outside = [url for url in page.blocked_requests if "tile.openstreetmap.org" not in url]
    assert outside == [], (where, outside)
    main = page.locator('[data-testid="stMain"]')
    assert main.locator('[data-testid="stException"]').count() == 0, where
    assert "Something went wrong" not in main.inner_text(), where


def squeeze(text: str) -> str:
    """Text as read: runs of spaces as one, without the invisible word joiners that keep URLs from linking."""
    return " ".join(text.replace("\u2060", "").split())


def main_text(page) -> str:
    return squeeze(page.locator('[data-testid="stMain"]').inner_text())


def wait_for_text(page, text: str, timeout_ms: int = 30_000) -> None:
    page.wait_for_function("([wanted]) => document.querySelector('[data-testid=\"stMain\"]').innerText"
                           ".replaceAll('\u2060', '').replace(/\\s+/g, ' ').includes(wanted)",
                           arg=[squeeze(text)], timeout=timeout_ms)


def map_tooltips(page) -> list[str]:
    """Open every tooltip of the map (Leaflet sets its HTML then) and return their texts."""
    frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first
    frame.locator("path.leaflet-interactive").first.wait_for(state="attached", timeout=60_000)
    for candidate in page.frames:
        try:
            texts = candidate.evaluate(OPEN_TOOLTIPS)
        except Exception:  # noqa: BLE001 — a frame that went away while we looked
            continue
        if texts:
            return texts
    return []


def tooltips_show(page, name: str, timeout_s: float = 60) -> bool:
    """Whether a map tooltip shows ``name`` (squeezed) within ``timeout_s``: the map redraws after the rerun."""
    deadline = time.monotonic() + timeout_s
    while True:
        if any(squeeze(name) in text for text in map_tooltips(page)):
            return True
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(500)


def pick_next_ride(page, heading: str) -> None:
    """Choose the ride below the one shown in the Ride page's picker and wait for its heading. A rerun that lands
    while the list is open can draw the box again and lose the choice: then choose again."""
    changed = ("([before]) => { const h = document.querySelector('[data-testid=\"stMain\"] h3');"
               " return h !== null && h.innerText !== before; }")
    for attempt in range(3):
        picker = page.get_by_role("combobox", name="Ride", exact=True).first
        picker.press("ArrowDown")  # opens the list with the next ride (the one below the ride shown) marked
        picker.press("Enter")
        try:
            page.wait_for_function(changed, arg=[heading], timeout=15_000)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            wait_for_app(page)
    wait_for_app(page)


def test_hostile_names_from_files_show_as_text_on_every_page(hostile):
    server, page, ids = hostile
    # The Ride page opens on the newest ride; every other one is chosen in its ride picker (a rerun, as a rider
    # moves on; a new page load each costs the suite seconds): each heading and map tooltip is the name as text.
    visit(page, server, "/ride", settle_ms=0)  # the map is awaited below, then checked again
    shown = {squeeze(plain(stored)): name for name, stored in ids["stored"].items()}
    seen, raw = [], ""
    for step in range(len(ids["stored"])):
        if step:
            pick_next_ride(page, raw)
        raw = page.locator('[data-testid="stMain"] h3').first.inner_text()
        heading = squeeze(raw)
        assert heading in shown, heading  # the whole name as stored (XML-invalid characters gone, 200 at most)
        if shown[heading] in ids["rides"]:  # the GPX rides have a map (the FIT file's ride is indoors)
            assert tooltips_show(page, heading, timeout_s=30), (heading, map_tooltips(page))
        assert_inert(page, f"ride {heading!r} with its tooltips open")
        if step == 0:  # the tags of a GPX ride, the Markdown image among them, as text
            assert "Tags:" in main_text(page) and squeeze(TAGS[1]) in main_text(page)
        seen.append((heading, shown[heading]))
    assert sorted(name for _, name in seen) == sorted(ids["stored"])  # every hostile ride, the FIT file's too

    # The other pages through the sidebar, as a rider goes (a new page load each would cost the suite seconds)
    for title in ("Dashboard", "Rides", "Power", "Routes", "Climbs", "Plans", "Garmin sync", "Settings", "Backup"):
        go(page, title)
        if title == "Dashboard":
            wait_for_text(page, MD_IMAGE)  # the active plan's name and the week table
        if title == "Garmin sync":
            wait_for_text(page, IMG_ONERROR)  # the account's label, as text

    go(page, "Coach")
    page.get_by_role("tab", name="Rules").click()
    wait_for_text(page, MD_LINK)  # the rule's name in its expander label
    assert_inert(page, "coach rules")

    letters = "abcdef"
    chosen = [ids["rides"][n] for n in (TEMPLATE_LITERAL, BACKTICK, SCRIPT_END, IMG_ONERROR, MD_LINK, CONTROL)]
    visit(page, server, "/compare?" + "&".join(f"{letters[i]}={ride}" for i, ride in enumerate(chosen)))
    # the chart draws the names on its canvas (never as markup); the pointer's tooltip holds letters and numbers
    page.locator(".st-key-compare_streams_chart").locator("canvas, svg.marks").first.wait_for(timeout=60_000)
    tooltips = map_tooltips(page)
    assert any(squeeze(plain(TEMPLATE_LITERAL)) in text for text in tooltips), tooltips
    assert_inert(page, "compare with tooltips open")
    screenshot(page, "hostile-compare")


def test_hostile_values_in_the_address_are_shown_as_text(hostile):
    server, page, ids = hostile
    visit(page, server, f"/ride?id={quote(MD_LINK)}")
    warning = squeeze(page.locator('[data-testid="stAlert"]').first.inner_text())
    assert MD_LINK in warning and page.locator('a[href*="evil.test"]').count() == 0
    visit(page, server, f"/compare?a={quote(TEMPLATE_LITERAL)}&b={quote(SCRIPT_END)}")
    visit(page, server, f"/routes?{quote(SCRIPT_END)}={quote(IMG_ONERROR)}")
    visit(page, server, f"/?x={quote(BACKTICK)}&y={quote(LONG)}")
    visit(page, server, f"/rides?q={quote(MD_IMAGE)}")


def test_hostile_text_typed_or_uploaded_in_the_ui_stays_text(hostile):
    server, page, ids = hostile
    # a route uploaded with a hostile name inside the GPX and in the file name
    visit(page, server, "/routes")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files=[{
        "name": f"{UPLOAD_NAME}.gpx", "mimeType": "application/gpx+xml",
        "buffer": gpx_bytes(UPLOAD_NAME, None, 46.0)}])
    wait_for_text(page, f"{UPLOAD_NAME}.gpx: route, 3.", 60_000)
    wait_for_app(page)
    assert_inert(page, "route upload")
    assert tooltips_show(page, UPLOAD_NAME)
    assert_inert(page, "uploaded route's tooltips")

    # the same route renamed in the UI
    page.get_by_text("Rename or delete").click()
    page.get_by_label("New name").fill(TYPED_NAME)
    page.get_by_role("button", name="Rename", exact=True).click()
    wait_for_app(page)
    assert tooltips_show(page, TYPED_NAME)
    assert_inert(page, "renamed route")

    # a FIT ride uploaded under a hostile file name, then every ride on the page tagged with a typed tag
    visit(page, server, "/rides")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(files=[{
        "name": "copy " + FIT_FILE_NAME, "mimeType": "application/octet-stream", "buffer": FIT.read_bytes()}])
    wait_for_text(page, "copy [fit](http:evil.test)", 60_000)
    wait_for_app(page)
    assert_inert(page, "ride upload")
    page.get_by_text("Select every ride on this page").click()
    wait_for_app(page)
    page.get_by_role("textbox", name="Tag", exact=True).fill(TYPED_TAG)
    page.get_by_role("textbox", name="Tag", exact=True).press("Enter")  # commit the text before the click reruns
    wait_for_app(page)
    # the button is enabled by the select-all rerun; a click on it while that rerun redraws it can be lost
    page.wait_for_function("() => Array.from(document.querySelectorAll('button')).some("
                           "b => b.innerText.trim() === 'Add tag' && !b.disabled)")
    page.get_by_role("button", name="Add tag").click()
    flash = page.locator('[data-testid="stAlert"]').filter(has_text="Tagged").first
    flash.wait_for(timeout=60_000)  # "Tagged N ride(s) '<the tag>'"
    assert squeeze(TYPED_TAG) in squeeze(flash.inner_text())
    wait_for_app(page)
    assert_inert(page, "typed tag")
    visit(page, server, f"/ride?id={ids['rides'][MD_LINK]}")
    assert squeeze(TYPED_TAG) in main_text(page)
    screenshot(page, "hostile-ride")
