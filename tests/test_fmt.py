"""core.views.fmt: the one formatting layer — units, missing values, time zones, tables without raw floats."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.athletes import validate_profile
from core.errors import VeloCoachError
from core.views import fmt
from core.views.fmt import Column, Units

IMPERIAL = Units("imperial", "America/Los_Angeles")


def test_values_carry_their_unit_with_the_promised_precision():
    assert fmt.distance(34133.2) == "34.1 km" and fmt.distance(34133.2, IMPERIAL) == "21.2 mi"
    assert fmt.distance(121_417.96, unit=False) == "121.4"
    assert fmt.elevation(350.9487) == "351 m" and fmt.elevation(350.9487, IMPERIAL) == "1,151 ft"
    assert fmt.speed(7.91) == "28.5 km/h" and fmt.speed(7.91, IMPERIAL) == "17.7 mph"
    assert fmt.duration(15542.0) == "4:19" and fmt.duration(15542.0, with_seconds=True) == "4:19:02"
    assert fmt.duration(725, with_seconds=True) == "12:05" and fmt.duration(-2, with_seconds=True) == "−0:02"
    assert fmt.duration(3599.6) == "1:00"  # rounds to the minute, never "0:60"
    assert (fmt.power(245.6), fmt.heart_rate(151.2), fmt.energy(1294.8)) == ("246 W", "151 bpm", "1,295 kJ")
    assert fmt.pct(7.26) == "7.3 %" and fmt.pct(93.75, 0, unit=False) == "94"
    assert fmt.signed(-3.46, 1, "km") == "−3.5 km" and fmt.signed(12, 0, "W") == "+12 W"
    assert fmt.number(-0.01, 1) == "0.0"  # no "-0.0"


@pytest.mark.parametrize("empty", [None, float("nan"), ""])
def test_a_missing_figure_is_a_dash_never_none_or_nan(empty):
    shown = [fmt.distance(empty if empty != "" else None), fmt.duration(empty if empty != "" else None),
             fmt.power(empty if empty != "" else None), fmt.text(empty), fmt.day(empty if empty != "" else None)]
    assert set(shown) == {"–"}


def test_dates_and_times_are_shown_in_the_riders_time_zone():
    moment = datetime(2026, 5, 4, 5, 30, tzinfo=UTC)
    assert fmt.moment(moment) == "2026-05-04 05:30"
    assert fmt.moment(moment, Units("metric", "Asia/Tokyo")) == "2026-05-04 14:30"
    assert fmt.day(moment, IMPERIAL) == "Sun 2026-05-03"  # still the evening before in California
    assert fmt.day(date(2026, 5, 4)) == "Mon 2026-05-04"
    assert fmt.moment(datetime(2026, 5, 4, 5, 30)) == "2026-05-04 05:30"  # naive timestamps are UTC


def test_units_come_from_preferences_and_bad_stored_values_fall_back_safely():
    assert Units.from_preferences({"units": "imperial", "timezone": "Europe/Paris"}) == Units("imperial",
                                                                                            "Europe/Paris")
    assert Units.from_preferences({"units": "furlongs", "timezone": "Mars/Olympus"}) == Units()
    assert Units.from_preferences(None) == Units()
    assert fmt.time_zones()[0] == "UTC" and "Europe/Paris" in fmt.time_zones()


@pytest.mark.parametrize("preferences, words", [({"units": "cubits"}, "metric or imperial"),
                                                ({"timezone": "Nowhere/Atlantis"}, "not a known zone"),
                                                ({"timezone": "../../etc/passwd"}, "not a known zone"),
                                                ({"timezone": "x" * 5000}, "not a known zone")])
def test_a_bad_units_or_time_zone_setting_is_refused_in_words(preferences, words):
    with pytest.raises(VeloCoachError, match=words):
        validate_profile(name="R", preferences=preferences)
    assert validate_profile(name="R", preferences={"units": "imperial", "timezone": "Asia/Tokyo"})


def test_a_table_has_unit_headers_display_strings_and_plain_text():
    rows = [{"name": "Col\x1b[31m\nde la Madone", "distance_m": 12345.6, "gain": None}]
    frame = fmt.table(rows, [Column("name", "Name"), Column("distance_m", "Distance (km)",
                                                               lambda v: fmt.distance(v, unit=False)),
                             Column("gain", "Gain (m)", fmt.elevation)])
    assert frame.to_dict("records") == [{"Name": "Col [31m de la Madone", "Distance (km)": "12.3",
                                         "Gain (m)": "–"}]
    assert list(fmt.table([], [Column("x", "X")]).columns) == ["X"]
    assert fmt.counts_table({"rides": 1200, "ride_samples": 3_600_000, "rules": 0}).to_dict("records") == [
        {"What": "Rides", "Rows": "1,200"}, {"What": "Ride samples", "Rows": "3,600,000"}]
    assert fmt.counts_sentence({"rides": 42, "routes": 1}) == "42 rides, 1 route, 0 plans"


def test_duration_axes_label_the_durations_riders_name():
    axis = fmt.duration_axis(1500)
    assert dict(zip(axis["tickvals"], axis["ticktext"], strict=True)) == {
        1: "1 s", 5: "5 s", 15: "15 s", 30: "30 s", 60: "1 min", 120: "2 min", 300: "5 min", 600: "10 min",
        1200: "20 min"}
    assert axis["type"] == "log"


def test_a_static_table_escapes_every_header_and_cell_colours_a_column_and_aligns_figures():
    from html.parser import HTMLParser

    frame = fmt.table([{"name": '<img src=x onerror=alert(1)> & "co"', "h": 5400, "status": "On plan"}],
                      [fmt.Column("name", "Name <b>"), fmt.Column("h", "Time (h:mm)", fmt.duration),
                       fmt.Column("status", "Status")])
    html = fmt.table_html(frame, {"Status": lambda word: "color: red" if word == "On plan" else ""})

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.cells, self.attrs = [], [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            if tag in ("th", "td"):
                self.cells.append("")
                self.attrs.append(dict(attrs))

        def handle_data(self, data):
            if self.tags and self.tags[-1] in ("th", "td"):
                self.cells[-1] += data

    parsed = Cells()
    parsed.feed(html)
    assert "img" not in parsed.tags and "b" not in parsed.tags  # hostile text stays text
    assert parsed.cells == ["Name <b>", "Time (h:mm)", "Status", '<img src=x onerror=alert(1)> & "co"', "1:30",
                            "On plan"]
    assert parsed.attrs[4] == {"class": "vc-figure"} and parsed.attrs[5] == {"style": "color: red"}
    assert parsed.attrs[3] == {}  # a name is not a figure
