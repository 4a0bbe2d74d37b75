"""The Dashboard's Vega-Lite specs: valid against Vega-Lite's own schema (the one Altair ships), the right rows,
the planned days told apart, sports named in words and no markup from a file."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from core.views import dashcharts
from core.views.dashcharts import spec_values


@cache
def vega_lite_validator() -> jsonschema.protocols.Validator:
    import altair

    schema_dir = Path(altair.__file__).parent / "vegalite" / "v6" / "schema"
    schema = json.loads((schema_dir / "vega-lite-schema.json").read_text())
    return jsonschema.validators.validator_for(schema)(schema)


def assert_valid(spec: dict) -> None:
    json.dumps(spec, allow_nan=False)  # what the browser gets is strict JSON: no NaN
    errors = sorted(vega_lite_validator().iter_errors(spec), key=lambda e: e.path)
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:3]]


def fitness_frame(days: int = 10, projected_from: int = 7) -> pd.DataFrame:
    start = date(2026, 3, 2)
    return pd.DataFrame({"date": [start + timedelta(days=i) for i in range(days)],
                         "ctl": [50.0 + i for i in range(days)], "atl": [60.0 - i for i in range(days)],
                         "tsb": [float("nan")] + [-10.0 + i for i in range(1, days)],
                         "projected": [i >= projected_from for i in range(days)]})


def totals_frame() -> pd.DataFrame:
    weeks = [date(2026, 1, 5), date(2026, 1, 12)]
    return pd.DataFrame({"period_start": weeks * 2, "sport_type": ["cycling"] * 2 + ["indoor_cycling"] * 2,
                         "moving_time_s": [7200.0, 3600.0, 1800.0, 5400.0], "avg_power_w": [180.0, 190.0, 200.0, 210.0]})


def test_the_fitness_chart_is_valid_and_marks_the_planned_days():
    spec = dashcharts.fitness_chart(fitness_frame())
    assert_valid(spec)
    rows = spec_values(spec)
    assert [r["part"] for r in rows] == ["done"] * 7 + ["plan"] * 3
    assert rows[0]["TSB"] is None and rows[1]["TSB"] == -9.0  # a missing value is a gap, not NaN or zero
    assert rows[0]["day"] == "2026-03-02" and rows[0]["CTL"] == 50.0
    lines = spec["layer"][1]["encoding"]
    assert lines["strokeDash"]["field"] == "part" and lines["strokeDash"]["scale"]["domain"] == ["done", "plan"]
    tooltip_fields = [t["field"] for t in spec["layer"][2]["encoding"]["tooltip"]]
    assert {"day", "CTL", "ATL", "TSB"} <= set(tooltip_fields)


def test_summed_volume_is_stacked_and_averages_stand_side_by_side():
    summed = dashcharts.volume_chart(totals_frame(), "moving_time_s", "week", plan_value=2.5)
    average = dashcharts.volume_chart(totals_frame(), "avg_power_w", "month")
    for spec in (summed, average):
        assert_valid(spec)
    bars = summed["layer"][0]["encoding"]
    assert bars["y"]["stack"] == "zero" and "xOffset" not in bars
    assert average["layer"][0]["encoding"]["y"]["stack"] is None and "xOffset" in average["layer"][0]["encoding"]
    hours = {(r["start"], r["sport"]): r["value"] for r in spec_values(summed)}
    assert hours[("2026-01-05", "Cycling")] == 2.0 and hours[("2026-01-12", "Indoor cycling")] == 1.5
    assert bars["y"]["title"] == "Moving time h"
    assert summed["layer"][1]["encoding"]["y"]["datum"] == 2.5  # this week's plan as a line
    assert len(average["layer"]) == 1  # no plan line for a monthly average


def test_the_volume_legend_names_sports_in_words_and_drops_control_characters():
    frame = totals_frame()
    frame.loc[0, "sport_type"] = "gravel\x1b[31m_<b>ride</b>"
    spec = dashcharts.volume_chart(frame, "moving_time_s", "week")
    names = spec["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert "Cycling" in names and "Indoor cycling" in names
    hostile = next(n for n in names if "ride" in n)
    assert "\x1b" not in hostile and hostile.startswith("Gravel")
    assert {r["sport"] for r in spec_values(spec)} == set(names)  # every bar has its legend entry and colour


def test_zones_stack_in_zone_order_with_the_shared_zone_colours():
    zones = pd.DataFrame({"period_start": [date(2026, 1, 5)] * 3, "zone": [3, 1, 7], "seconds": [3600.0, 1800.0, 360.0]})
    spec = dashcharts.zones_chart(zones, "power")
    assert_valid(spec)
    colour = spec["encoding"]["color"]["scale"]
    assert colour["domain"] == ["Power Z1", "Power Z3", "Power Z7"]
    assert colour["range"] == [dashcharts.ZONE_COLOURS[0], dashcharts.ZONE_COLOURS[2], dashcharts.ZONE_COLOURS[6]]
    assert {r["zone"]: r["hours"] for r in spec_values(spec)} == {"Power Z3": 1.0, "Power Z1": 0.5, "Power Z7": 0.1}
    assert dashcharts.zones_chart(zones, "hr")["encoding"]["color"]["scale"]["domain"][0] == "HR Z1"
    # seven zones' names wrap in the legend (a half-width column cut the last ones off on one line)
    assert spec["encoding"]["color"]["legend"]["columns"] <= 4


@pytest.mark.parametrize("longest_s", [60, 1200, 3600])
def test_season_bests_label_the_log_axis_only_up_to_the_longest_effort(longest_s):
    durations = [d for d in (1, 5, 60, 300, 1200, 3600) if d <= longest_s]
    bests = pd.DataFrame({"duration_s": durations, "this_season_w": [900.0 - d / 10 for d in durations],
                          "last_season_w": [math.nan] + [850.0] * (len(durations) - 1)})
    spec = dashcharts.bests_chart(bests, 2026)
    assert_valid(spec)
    axis = spec["encoding"]["x"]["axis"]
    assert max(axis["values"]) <= longest_s and spec["encoding"]["x"]["scale"]["type"] == "log"
    assert "'1 min'" in axis["labelExpr"] and ("'1 h'" in axis["labelExpr"]) == (longest_s >= 3600)
    seasons = [r["season"] for r in spec_values(spec)]
    assert seasons.count("2026") == len(durations) and seasons.count("2025") == len(durations) - 1  # no NaN point
    assert spec_values(spec)[1]["duration"] == "5 s"
