"""core.views.ridecharts: the Rides list rows, the Ride page's tiles, figures, climbs and picker, without Streamlit."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from core.rides.store import store_ride
from core.views import fmt, ridecharts
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


def test_streams_with_fewer_than_two_values_get_no_panel_and_speed_is_in_km_per_hour():
    figure = ridecharts.streams_figure(samples(), "distance")
    assert [a.text for a in figure.layout.annotations] == ["Power (W)", "Heart rate (bpm)", "Speed (km/h)"]
    assert [t.name for t in figure.data] == ["Power (W)", "Heart rate (bpm)", "Speed (km/h)"]
    assert figure.data[2].y[0] == 8.0 * 3.6 and figure.data[2].yaxis == "y3"
    assert figure.data[0].x[-1] == 99 * 8 / 1000  # km
    # every panel keeps its own x tick labels and unit, as one chart per stream had them
    assert [figure.layout[f"xaxis{i or ''}"].title.text for i in (0, 2, 3)] == ["km"] * 3
    assert all(figure.layout[f"xaxis{i or ''}"].showticklabels for i in (0, 2, 3))
    indoor = ridecharts.streams_figure(samples(with_distance=False), "distance")
    assert indoor.layout.xaxis.title.text == "minutes" and indoor.data[0].x[-1] == 99 / 60  # falls back to time
    assert ridecharts.streams_figure(samples(n=1)) is None


def test_zone_and_power_curve_figures_are_none_without_data():
    assert ridecharts.zones_figure([0, 0, 0, 0, 0], "hr") is None and ridecharts.zones_figure(None) is None
    fig = ridecharts.zones_figure([600, 120, 0, 0, 0, 0, 60], "power")
    assert list(fig.data[0].x) == [f"Z{i}" for i in range(1, 8)] and list(fig.data[0].y) == [10, 2, 0, 0, 0, 0, 1]
    assert fig.layout.title.text == "Time in power zones"
    assert ridecharts.power_curve_figure({}) is None
    curve = ridecharts.power_curve_figure({"60": 300, "5": 700, "1200": 250, "3600": 230})
    assert list(curve.data[0].x) == [5, 60, 1200, 3600] and curve.layout.xaxis.type == "log"
    ticks = dict(zip(curve.layout.xaxis.tickvals, curve.layout.xaxis.ticktext, strict=True))
    assert {5: "5 s", 60: "1 min", 300: "5 min", 1200: "20 min", 3600: "1 h"}.items() <= ticks.items()
    assert 7200 not in ticks  # no label beyond the longest effort


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
