"""core.views.ridecharts: the Rides list rows, the Ride page's tiles, figures, climbs and picker, without Streamlit."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from core.rides.store import store_ride
from core.views import bandcharts, fmt, ridecharts
from core.views.dashcharts import dataset_frames
from tests.test_dashcharts import assert_valid as assert_valid_spec
from tests.test_rides import make_ride

START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def samples(n=100, with_distance=True, power=True) -> pd.DataFrame:
    t = np.arange(n, dtype=float)
    return pd.DataFrame({"t_s": t, "dist_m": t * 8 if with_distance else np.nan, "power": 200.0 if power else np.nan,
                         "hr": 140.0, "cadence": np.nan, "speed": 8.0, "ele": np.nan})


def test_the_list_shows_km_rounded_moving_time_as_hours_and_minutes_and_joined_tags():
    row = {"id": 3, "started_at": START, "name": "Loop", "sport_type": "cycling", "distance_m": 42_345.0,
           "moving_time_s": 3725.0, "avg_power_w": 180.0, "normalized_power_w": 200.0, "avg_hr": 140.0, "tss": 60.0,
           "load_method": "power", "tags": ["race", "hills"]}
    table = ridecharts.rides_table([row, row | {"id": 4, "distance_m": None, "moving_time_s": None, "tags": []}])
    assert table.loc[0, ["Distance (km)", "Moving (h:mm)", "Tags", "Load"]].tolist() == [
        "42.3", "1:02", "race, hills", "60 TSS"]
    assert table.loc[1, "Moving (h:mm)"] == "–" and table.loc[1, "Distance (km)"] == "–"
    assert "_" not in "".join(table.columns)
    imperial = ridecharts.rides_table([row], fmt.Units("imperial", "America/New_York"))
    assert imperial.loc[0, ["Distance (mi)", "Date"]].tolist() == ["26.3", "2024-05-01 04:00"]
    assert ridecharts.ride_label(row) == "#3 2024-05-01 Loop"
    assert ridecharts.ride_label({"id": 9, "started_at": None, "name": "x"}) == "#9"
    assert ridecharts.page_count(0, 25) == 1 and ridecharts.page_count(51, 25) == 3


def assert_valid(spec: dict) -> dict[str, pd.DataFrame]:
    """Valid Vega-Lite with its named datasets as Streamlit sends them (apart, as Arrow); the datasets as frames.
    Every dataset a view names is in the spec."""
    frames = dataset_frames(spec)
    assert_valid_spec({**spec, "datasets": {name: [] for name in frames}})
    assert set(re.findall(r"'name': '(\w+_(?:rows|tips|lowest))'", str({k: v for k, v in spec.items()
                                                                        if k != "datasets"}))) <= set(frames)
    return frames


def same_but_rows(spec: dict, other: dict) -> bool:
    """The two specs differ in their rows only (so the browser keeps the chart and swaps its data)."""
    return ({k: v for k, v in spec.items() if k != "datasets"} == {k: v for k, v in other.items() if k != "datasets"}
            and spec["datasets"].keys() == other["datasets"].keys())


def flat_layers(spec: dict) -> list[dict]:
    """A layered spec's unit layers, nested layers opened."""
    return [unit for layer in spec["layer"] for unit in (flat_layers(layer) if "layer" in layer else [layer])]


def band_text(spec_or_rows) -> tuple[list[str], str]:
    """A band chart's titles, top to bottom, and its x unit (data, not spec: ``band_text``)."""
    text = spec_or_rows if isinstance(spec_or_rows, pd.DataFrame) else dataset_frames(spec_or_rows)["band_text"]
    return text[text["band"] >= 0].sort_values("band")["text"].tolist(), text[text["band"] < 0]["text"].item()


def panel_titles(spec) -> list[str]:
    return band_text(spec)[0]


def line_layers(spec: dict) -> list[dict]:
    return [layer for layer in flat_layers(spec) if layer["mark"]["type"] == "line"]


def streams(frame: pd.DataFrame, axis: str = "time") -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The streams chart's line rows (each band's own rows, joined on x in band order), tooltip rows and spec."""
    spec = ridecharts.streams_chart(frame, axis)
    frames = assert_valid(spec)
    return joined_band_rows(frames, spec), frames["band_tips"], spec


def joined_band_rows(frames: dict[str, pd.DataFrame], spec: dict) -> pd.DataFrame:
    columns = [layer["encoding"]["y"]["field"] for layer in line_layers(spec)]
    joined = frames[f"{columns[0]}_rows"]
    for column in columns[1:]:
        joined = joined.merge(frames[f"{column}_rows"], on="x", how="outer")
    return joined.sort_values("x", ignore_index=True)


def test_streams_with_fewer_than_two_values_get_no_panel_and_speed_is_in_km_per_hour():
    rows, tips, spec = streams(samples(), "distance")
    assert band_text(spec) == (["Power (W)", "Heart rate (bpm)", "Speed (km/h)"], "km")
    assert list(rows.columns) == ["x", "power", "hr", "speed"]  # no empty cadence or elevation column
    assert rows["speed"].iloc[0] == 8.0 * 3.6 and rows["x"].iloc[-1] == 99 * 8 / 1000  # km/h, km
    # every band plots its own stream on its own y scale, in its own slice of the height, top to bottom
    lines = line_layers(spec)
    assert [e["encoding"]["x"]["field"] for e in lines] == ["x"] * 3
    assert [e["encoding"]["y"]["field"] for e in lines] == ["power", "hr", "speed"]
    assert spec["resolve"]["scale"]["y"] == "independent"
    ranges = [[float(end["expr"].split("*")[1]) for end in e["encoding"]["y"]["scale"]["range"]] for e in lines]
    assert all(0 < top < bottom <= 1 for bottom, top in ranges)
    assert all(upper[0] < lower[1] for upper, lower in pairwise(ranges))  # no band overlaps the next
    indoor_rows, _, indoor = streams(samples(with_distance=False), "distance")
    assert band_text(indoor)[1] == "minutes" and indoor_rows["x"].iloc[-1] == 99 / 60  # falls back to time
    assert ridecharts.streams_chart(samples(n=1)) is None


def test_the_streams_share_one_zoom_and_one_pointer_and_the_spec_ignores_the_numbers_and_the_axis():
    rows, tips, spec = streams(samples(), "time")
    assert "x" not in spec["resolve"]["scale"]  # one x scale for every band
    names = [layer["name"] for layer in flat_layers(spec) if "name" in layer]
    zoom, hover = spec["params"]
    assert zoom["bind"] == "scales" and zoom["select"]["encodings"] == ["x"]
    assert set(zoom["views"]) | set(hover["views"]) <= set(names) and len(names) == len(set(names))
    # one set of hover rules spans every band: a few hundred marks whatever the number of streams
    (rules,) = [layer for layer in flat_layers(spec) if layer.get("name") in hover["views"]]
    assert rules["data"] == {"name": "band_tips"} and rules["mark"]["y2"] == {"expr": "height"}
    # the tooltip lists every stream at the pointer's moment, named and rounded as a rider reads them
    assert [t["title"] for t in rules["encoding"]["tooltip"]] == ["at", "Power (W)", "Heart rate (bpm)",
                                                                  "Speed (km/h)"]
    assert tips.iloc[1].tolist()[1:] == ["0.0 min", "200", "140", "28.8"]  # 1 s in: 0.0 min
    # another ride with the same streams, or the other axis: other rows, the same spec (the browser keeps it)
    other = samples(n=3000)
    other["power"] = np.linspace(100, 400, 3000)
    other_rows, other_tips, other_spec = streams(other, "time")
    assert same_but_rows(other_spec, spec) and same_but_rows(streams(samples(), "distance")[2], spec)
    assert len(other_tips) <= bandcharts.MAX_TIPS  # fewer hover targets than rows
    # each band draws its own stream's envelope, at most two points per 1/400 of the ride: not every row
    frames = assert_valid(other_spec)
    assert all(len(frames[f"{c}_rows"]) <= 2 * ridecharts.BAND_BUCKETS + 2 for c in ("power", "hr", "speed"))
    assert frames["power_rows"]["power"].agg(["min", "max"]).tolist() == [100.0, 400.0]
    gaps = samples()
    gaps.loc[10:19, "power"] = np.nan
    gap_rows, gap_tips, _ = streams(gaps, "time")
    assert gap_rows["power"].isna().sum() == 10 and gap_tips.loc[10, "Power (W)"] == "–"  # a gap stays a gap


def test_a_long_rides_bands_keep_a_one_second_sprint_and_break_at_a_dropout():
    ride = samples(n=20_000)
    ride["power"] = 180.0 + 30 * np.sin(np.arange(20_000) / 50)
    ride.loc[12_345, "power"] = 1_250.0  # one second's sprint
    ride.loc[5_000:5_599, "power"] = np.nan  # ten minutes without a power meter
    frames = assert_valid(ridecharts.streams_chart(ride, "time"))
    power = frames["power_rows"]
    assert len(power) <= 2 * ridecharts.BAND_BUCKETS + 4 and power["power"].max() == 1_250.0
    assert power["power"].min() == pytest.approx(150.0, abs=0.1)
    # the line breaks in the dropout: a missing row lies between the last value before it and the first after it
    missing = power[power["power"].isna()]["x"].tolist()
    assert len(missing) == 1 and 5_000 / 60 <= missing[0] < 5_600 / 60
    before, after = power[power["x"] < missing[0]]["x"].max(), power[power["x"] > missing[0]]["x"].min()
    assert before < 5_000 / 60 and after >= 5_600 / 60
    # a band without a gap draws no missing row
    assert not frames["hr_rows"]["hr"].isna().any()


def test_zone_and_power_curve_charts_are_none_without_data_and_keep_one_spec_per_kind():
    assert ridecharts.zones_chart([0, 0, 0, 0, 0], "hr") is None and ridecharts.zones_chart(None) is None
    spec = ridecharts.zones_chart([600, 120, 0, 0, 0, 0, 60], "power")
    rows = assert_valid(spec)["zone_rows"]
    assert rows["zone"].tolist() == [f"Z{i}" for i in range(1, 8)] and rows["minutes"].tolist() == [
        10, 2, 0, 0, 0, 0, 1]
    assert rows["time"].iloc[0] == fmt.duration(600, with_seconds=True)
    assert spec["title"] == "Time in power zones" and spec["encoding"]["color"]["scale"]["range"][0] == (
        ridecharts.ZONE_COLOURS[0])
    assert same_but_rows(ridecharts.zones_chart([60, 0, 0, 0, 0, 0, 0], "power"), spec)
    assert ridecharts.zones_chart([60, 60, 0, 0, 0], "hr")["title"] == "Time in heart-rate zones"
    assert ridecharts.power_curve_chart({}) is None
    curve = ridecharts.power_curve_chart({"60": 300, "5": 700, "1200": 250, "3600": 230})
    rows = assert_valid(curve)["curve_rows"]
    assert rows["duration_s"].tolist() == [5, 60, 1200, 3600] and rows["power_w"].tolist() == [700, 300, 250, 230]
    x = curve["encoding"]["x"]
    assert x["scale"] == {"type": "log", "nice": False}  # the axis ends at the ride's longest effort
    for seconds, text in ((5, "5 s"), (60, "1 min"), (1200, "20 min"), (3600, "1 h")):
        assert seconds in x["axis"]["values"] and f"datum.value == {seconds} ? '{text}'" in x["axis"]["labelExpr"]
    assert same_but_rows(ridecharts.power_curve_chart({"5": 900, "60": 400}), curve)


def test_w_prime_balance_is_a_band_of_the_streams_with_its_lowest_point_marked_at_the_rides_time(cur, athlete_id):
    ride = make_ride(2 * 3600, 150, 130, started_at=START, name="Sprint")
    ride.power[5_000:5_060] = 500.0  # a minute far above CP: W′ runs low, then recovers
    ride.t_s[4_000:] += 2 * 3600  # a two-hour stop before it: counted as one hour on W′'s timeline
    ride_id = store_ride(cur, athlete_id, ride, source="file", external_id="sprint").id
    detail = ridecharts.load_ride_detail(cur, athlete_id, ride_id, max_points=600)
    wbal, rows = detail["w_prime"], detail["samples"]
    assert wbal is not None and len(rows) <= 600
    # the band's lowest value is the balance's lowest, at the sample of the ride's clock where it happens
    assert rows["w_prime_kj"].min() == wbal["min_j"] / 1000
    assert rows["t_s"][rows["w_prime_kj"].idxmin()] == wbal["min_at_s"] + 3600  # the stop's second hour
    for axis in ("time", "distance"):
        spec = ridecharts.streams_chart(rows, axis)
        frames = assert_valid(spec)
        assert panel_titles(spec)[-1] == "W′ balance (kJ)"
        lowest = frames["stream_w_prime_lowest"].to_dict("records")
        x = rows["t_s"] / 60 if axis == "time" else rows["dist_m"] / 1000
        assert lowest == [{"x": x[rows["w_prime_kj"].idxmin()],
                           "w_prime_kj": wbal["min_j"] / 1000, "label": f"min {wbal['min_j'] / 1000:.1f} kJ",
                           "side": "right"}]
        assert "W′ balance (kJ)" in frames["band_tips"].columns and band_text(spec)[1] == {
            "time": "minutes", "distance": "km"}[axis]
    # the marker and its labels sit on the band's own scale (one layer with the line)
    (band,) = [layer for layer in spec["layer"] if "layer" in layer]
    assert [inner.get("name") for inner in band["layer"]][0] == "w_prime_kj_line"
    assert all(inner["encoding"]["y"] == band["layer"][0]["encoding"]["y"] for inner in band["layer"])
    # a ride with an early low point labels it to the right of the marker, away from the chart's left edge
    early = rows.copy()
    early.loc[1, "w_prime_kj"] = rows["w_prime_kj"].min() - 1
    assert dataset_frames(ridecharts.streams_chart(early))["stream_w_prime_lowest"]["side"].tolist() == ["left"]


def test_the_tiles_are_one_html_grid_with_every_string_escaped_and_the_help_on_hover():
    from html.parser import HTMLParser

    hostile = '<img src=x onerror=alert(1)>"'
    from core.views.tiles import tiles_html

    html = tiles_html([("Distance", "48.3 km", None), (hostile, "1 & 2", f"help {hostile}")])

    class Tiles(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.text, self.titles, self.at = [], {}, [], None

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.titles += [value for name, value in attrs if name == "title"]
            self.at = tag

        def handle_data(self, data):
            if self.at in ("dt", "dd"):
                self.text.setdefault(self.at, []).append(data)

    parsed = Tiles()
    parsed.feed(html)
    assert "img" not in parsed.tags and "<img" not in html  # the hostile label is text, not markup
    assert parsed.text == {"dt": ["Distance", hostile], "dd": ["48.3 km", "1 & 2"]}
    assert parsed.titles == [f"help {hostile}"]  # only the tile with a help text has a hover text
    assert parsed.tags.count("dl") == 2
    assert "repeat(5," in tiles_html([("a", "1", None)] * 5, per_row=5) and "repeat(5," not in html  # five a row


def test_detail_tiles_say_indoor_without_distance_and_name_the_load_method():
    ride = {"distance_m": None, "moving_time_s": 3600, "avg_power_w": 180.4, "normalized_power_w": None,
            "intensity_factor": 0.8, "tss": 55.2, "avg_hr": None, "load_method": "hr",
            "metrics": {"vi": 1.05, "decoupling_pct": float("nan")}}
    tiles = {label: (value, help_text) for label, value, help_text in ridecharts.detail_metrics(ride)}
    assert tiles["Distance"][0] == "indoor" and tiles["Moving time"][0] == "1:00:00"
    assert tiles["Avg / NP (W)"][0] == "180 / –" and tiles["Pw:HR drift"][0] == "–"
    assert tiles["Avg speed"][0] == "–" and tiles["Elevation gain"][0] == "–"
    assert "TSS" not in tiles and tiles["TRIMP"][0] == "55" and "TRIMP(100) from heart rate" in tiles["TRIMP"][1]
    assert tiles["Work"][0] == "–"
    power_ride = ride | {"load_method": "power", "metrics": {"work_kj": 1294.8}}
    tiles = {label: value for label, value, _ in ridecharts.detail_metrics(power_ride)}
    assert tiles["TSS"] == "55" and tiles["Work"] == "1,295 kJ"
    outdoor = {label: value for label, value, _ in ridecharts.detail_metrics(
        power_ride | {"distance_m": 121_417.96, "moving_time_s": 15_542.0, "elevation_gain_m": 1350.9487})}
    assert (outdoor["Distance"], outdoor["Moving time"], outdoor["Avg speed"], outdoor["Elevation gain"]) == (
        "121.4 km", "4:19:02", "28.1 km/h", "1,351 m")
    table = ridecharts.rides_table([{"id": 1, "started_at": START, "name": "HR only", "sport_type": "cycling",
                                     "distance_m": 1000.0, "moving_time_s": 60.0, "avg_power_w": None,
                                     "normalized_power_w": None, "avg_hr": 150.0, "tss": 40.0, "load_method": "hr",
                                     "tags": []}])
    assert table.loc[0, "Load"] == "40 TRIMP"


def test_climbs_table_keeps_climbs_only_and_the_source_lists_linked_copies():
    sections = [{"kind": "flat", "start_m": 0, "distance_m": 1000},
                {"kind": "climb", "start_m": 1234, "distance_m": 2500, "elevation_gain_m": 150, "avg_grade_pct": 6.0,
                 "max_grade_pct": 9.5, "category": "4"}]
    assert ridecharts.climbs_table(sections).to_dict("records") == [
        {"From (km)": "1.2", "Length (km)": "2.5", "Gain (m)": "150", "Avg (%)": "6.0", "Max (%)": "9.5",
         "Category": "Cat 4"}]
    assert ridecharts.climbs_table([]).empty
    ride = {"source": "file", "source_file": "a.fit", "sample_count": 3600,
            "linked": [{"source_file": None, "external_id": "garmin-1"}]}
    assert ridecharts.source_caption(ride) == "Source: file a.fit · 3,600 samples · also received as: garmin-1"


def test_pickers_find_any_ride_by_id_date_or_name_in_sql_with_a_limit(cur, athlete_id):
    from core.rides.find import find_rides

    ids = [store_ride(cur, athlete_id, make_ride(600, 150, 130, started_at=START.replace(day=d), name=f"R{d} loop"),
                      source="file", external_id=f"r{d}").id for d in (1, 2, 3)]
    assert [r["id"] for r in find_rides(cur, athlete_id, limit=2)] == [ids[2], ids[1]]  # newest first, limited
    assert [r["id"] for r in find_rides(cur, athlete_id, f"#{ids[0]}")] == [ids[0]]  # the id only, never names
    assert [r["id"] for r in find_rides(cur, athlete_id, "2024-05-02")] == [ids[1]]
    assert len(find_rides(cur, athlete_id, "2024-05")) == 3 and find_rides(cur, athlete_id, "2023") == []
    assert [r["id"] for r in find_rides(cur, athlete_id, "r3 LOOP")] == [ids[2]]
    assert find_rides(cur, athlete_id, "#999999") == [] and find_rides(cur, athlete_id, "%_\\") == []
    assert find_rides(cur, athlete_id, "'; DROP TABLE rides; --") == [] and len(find_rides(cur, athlete_id)) == 3
    assert ridecharts.is_athletes_ride(cur, athlete_id, ids[0]) and not ridecharts.is_athletes_ride(cur, 999, ids[0])
    detail = ridecharts.load_ride_detail(cur, athlete_id, ids[0], max_points=100)
    assert detail["name"] == "R1 loop" and 0 < len(detail["samples"]) <= 100


def test_laps_show_times_distances_and_speeds_in_the_riders_units_never_raw_floats():
    laps = [{"start_s": -2.0, "timer_s": 3725.4, "distance_m": 34133.2, "avg_speed_ms": 7.91, "avg_power_w": 201.6},
            {"start_s": 3725.0, "timer_s": 60.0}]
    table = ridecharts.laps_table(laps)
    assert table.loc[0, ["Starts at", "Time", "Distance (km)", "Avg speed (km/h)", "Avg (W)"]].tolist() == [
        "0:00", "1:02:05", "34.1", "28.5", "202"]
    assert table.loc[1, "Distance (km)"] == "–" and "_" not in "".join(table.columns)
