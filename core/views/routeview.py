"""What the Routes page shows, built without Streamlit: the route list and the section table in the rider's units
(core.views.fmt), with "–" for a figure a section does not have.

Must never: write or import streamlit.
"""

from __future__ import annotations

import pandas as pd

from core.views import fmt
from core.views.fmt import METRIC, Column, Units


def _category(value) -> str:
    return fmt.MISSING if not value else "HC" if value == "HC" else f"Cat {value}"


def _speed_ms(section: dict) -> float | None:
    kmh = (section.get("details") or {}).get("avg_speed_kmh")
    return None if kmh is None else kmh / 3.6


def route_table(routes: list[dict], units: Units = METRIC) -> pd.DataFrame:
    return fmt.table(routes, [
        Column("id", "#", str), Column("name", "Name"),
        Column("distance_m", f"Distance ({units.distance_unit})", lambda v: fmt.distance(v, units, unit=False)),
        Column("elevation_gain_m", f"Gain ({units.elevation_unit})", lambda v: fmt.elevation(v, units, unit=False)),
        Column("point_count", "Points", fmt.number), Column("source_file", "File"),
        Column("created_at", "Added", lambda v: fmt.moment(v, units))])


def sections_table(sections: list[dict], units: Units = METRIC) -> pd.DataFrame:
    """One row per climb, descent or flat: where, how long, how steep, category, FIETS, time and gear."""
    def unitless(show):
        return lambda v: show(v, units, unit=False)

    rows = [{"n": i, **s, "kind": s["kind"].capitalize(), "speed_ms": _speed_ms(s),
             "walk": "walk" if (s.get("details") or {}).get("unrideable") else ""}
            for i, s in enumerate(sections, start=1)]
    return fmt.table(rows, [
        Column("n", "#", str), Column("kind", "Kind", str),
        Column("start_m", f"From ({units.distance_unit})", unitless(fmt.distance)),
        Column("end_m", f"To ({units.distance_unit})", unitless(fmt.distance)),
        Column("distance_m", f"Length ({units.distance_unit})", unitless(fmt.distance)),
        Column("elevation_gain_m", f"Gain ({units.elevation_unit})", unitless(fmt.elevation)),
        Column("elevation_loss_m", f"Loss ({units.elevation_unit})", unitless(fmt.elevation)),
        Column("avg_grade_pct", "Avg (%)", lambda v: fmt.pct(v, unit=False)),
        Column("max_grade_pct", "Max (%)", lambda v: fmt.pct(v, unit=False)),
        Column("category", "Category", _category), Column("fiets", "FIETS", lambda v: fmt.number(v, 1)),
        Column("est_time_s", "Time (h:mm)", fmt.duration),
        Column("speed_ms", f"Speed ({units.speed_unit})", unitless(fmt.speed)),
        Column("walk", "Walk", str), Column("gear_hint", "Gear", lambda v: fmt.text(v, None))])
