"""What the Rides and Ride pages show, built without Streamlit: list rows, labels, the detail's metric tiles and
its Plotly figures (streams, time in zones, power curve), the climbs table and the source line.

Figures are plotly graph_objects built directly (plotly.express costs ~0.4 s a chart, see core.rides.dashboard).
Nothing here writes; ``load_ride_detail`` is the one read.
"""

from __future__ import annotations

import math

import pandas as pd

from core.rides import store as rides
from core.rides.dashboard import ZONE_COLOURS
from core.views.text import plain

SORT_LABELS = {"started_at": "Date", "distance_m": "Distance", "moving_time_s": "Moving time", "tss": "TSS",
               "normalized_power_w": "NP", "avg_power_w": "Avg power", "avg_hr": "Avg HR",
               "elevation_gain_m": "Elevation gain", "name": "Name", "sport_type": "Sport"}
# (samples column, chart title, colour); speed is stored in m/s and shown in km/h
STREAMS = (("power", "Power (W)", "#E4572E"), ("hr", "Heart rate (bpm)", "#B3001B"),
           ("cadence", "Cadence (rpm)", "#8338EC"), ("speed", "Speed (km/h)", "#3A86FF"),
           ("ele", "Elevation (m)", "#2A9D8F"))
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def ride_label(row: dict) -> str:
    """'#12 2024-05-01 Morning ride' (the id alone when the ride has no start time)."""
    if not row.get("started_at"):
        return f"#{row['id']}"
    return f"#{row['id']} {row['started_at']:%Y-%m-%d} {plain(row['name'])}"


def ride_labels(rows: list[dict]) -> dict[int, str]:
    return {r["id"]: ride_label(r) for r in rows}


def ride_choices(cur, athlete_id: int, wanted: int | None = None, recent: int = 100) -> dict[int, str]:
    """Labels of the ``recent`` latest rides (any sport), plus ``wanted`` first when it is an older ride of this
    athlete; an unknown ``wanted`` is left out (the caller says so)."""
    from core.errors import NotFoundError

    latest, _ = rides.search_rides(cur, athlete_id, rides.RideFilter(sport="all"), page_size=recent)
    labels = ride_labels(latest)
    if wanted is not None and wanted not in labels:
        try:
            labels = {wanted: ride_label(rides.get_ride(cur, athlete_id, wanted)), **labels}
        except NotFoundError:
            pass
    return labels


def hours_minutes(seconds: float | None) -> str | None:
    """3725 → '1:02'."""
    if seconds is None:
        return None
    return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}"


def rides_table(rows: list[dict]) -> pd.DataFrame:
    """The Rides list as shown: km rounded, moving time as h:mm, tags joined."""
    return pd.DataFrame([{
        "id": r["id"], "Date": r["started_at"], "Name": plain(r["name"]), "Sport": r["sport_type"],
        "km": None if r["distance_m"] is None else round(r["distance_m"] / 1000, 1),
        "Moving": hours_minutes(r["moving_time_s"]), "Avg W": r["avg_power_w"], "NP": r["normalized_power_w"],
        "Avg HR": r["avg_hr"], "Load": r["tss"], "Load from": LOAD_LABELS.get(r["load_method"]),
        "Tags": ", ".join(plain(t) for t in r["tags"])}
        for r in rows])


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def load_ride_detail(cur, athlete_id: int, ride_id: int, max_points: int = 4000) -> dict:
    """``rides.get_ride`` plus ``samples`` (at most ``max_points``) and, for a ride with GPS, its recorded route's
    ``points`` and ``sections`` (else None and [])."""
    ride = rides.get_ride(cur, athlete_id, ride_id)
    ride["samples"] = rides.ride_samples(cur, ride_id, max_points=max_points)
    ride["sections"], ride["points"] = [], None
    ride["w_prime"] = None
    if ride.get("max_power_w"):
        from core.views.powerview import ride_w_prime

        ride["w_prime"] = ride_w_prime(cur, athlete_id, ride, rides.streams_from_samples(cur, ride_id))
    if ride["route_id"] is not None:
        from core.routes.store import route_points, route_sections

        ride["sections"] = route_sections(cur, ride["route_id"])
        ride["points"] = route_points(cur, ride["route_id"])
    from core.coach.compliance import ride_compliance
    from core.rides.efforts import ride_efforts

    ride["efforts"] = ride_efforts(cur, athlete_id, ride_id)
    ride["compliance"] = ride_compliance(cur, athlete_id, ride_id)
    return ride


def _fmt(value, pattern: str = "{:.0f}", none: str = "–") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return none
    return pattern.format(value)


LOAD_HELP = {"power": "TSS from power: samples/3600 · IF² · 100",
             "hr": "TRIMP(100) from heart rate (no power): Banister's TRIMP scaled so one hour at LTHR = 100"}
# How a ride's load was computed, wherever the number shows: TSS needs power and an FTP, TRIMP is from HR.
LOAD_LABELS = {"power": "TSS (power)", "hr": "TRIMP (HR)"}
ALTITUDE_HELP = {"barometric": "From the barometric altimeter, lightly smoothed (3 m hysteresis)",
                 "gps": "From GPS altitude, which jitters by metres: smoothed over ~100 m, 8 m hysteresis",
                 "dem": "From a terrain model's elevations, lightly smoothed"}


def detail_metrics(ride: dict) -> list[tuple[str, str, str | None]]:
    """The detail's metric tiles as (label, value, help)."""
    m = ride["metrics"]
    distance_km = ride["distance_m"] / 1000 if ride["distance_m"] else None
    moving_min = ride["moving_time_s"] / 60 if ride["moving_time_s"] else None
    return [
        ("Distance", _fmt(distance_km, "{:.1f} km", "indoor"), None),
        ("Moving", _fmt(moving_min, "{:.0f} min"), None),
        ("Avg / NP", f"{_fmt(ride['avg_power_w'])} / {_fmt(ride['normalized_power_w'])} W", None),
        ("IF", _fmt(ride["intensity_factor"], "{:.2f}"), None),
        ("TRIMP" if ride["load_method"] == "hr" else "TSS", _fmt(ride["tss"]),
         LOAD_HELP.get(ride["load_method"], "No load")),
        ("Work", _fmt(m.get("work_kj"), "{:.0f} kJ"), "Mechanical work: Σ W · 1 s over the power samples"),
        ("Avg HR", _fmt(ride["avg_hr"]), None),
        ("VI / EF", f"{_fmt(m.get('vi'), '{:.2f}')} / {_fmt(m.get('ef'), '{:.2f}')}", None),
        ("Pw:HR drift", _fmt(m.get("decoupling_pct"), "{:.1f} %"), None),
        ("Elevation gain", _fmt(ride.get("elevation_gain_m"), "{:.0f} m"),
         ALTITUDE_HELP.get(ride.get("altitude_source"), "No elevation recorded")),
    ]


def has_distance(samples: pd.DataFrame) -> bool:
    return not samples.empty and not bool(samples["dist_m"].isna().all())


def stream_figures(samples: pd.DataFrame, axis: str = "time") -> list[tuple[str, object]]:
    """One line chart per stream with at least two values, as (column, figure), against minutes or km
    (minutes when the ride has no distance)."""
    import plotly.graph_objects as go

    by_distance = axis == "distance" and has_distance(samples)
    x = (samples["dist_m"] / 1000 if by_distance else samples["t_s"] / 60).tolist()
    figures = []
    for column, title, colour in STREAMS:
        y = samples[column] * (3.6 if column == "speed" else 1)
        if y.notna().sum() < 2:
            continue
        fig = go.Figure(go.Scattergl(x=x, y=y.astype("float64").tolist(), mode="lines", name=title,
                                     line={"color": colour, "width": 1}))
        fig.update_layout(height=180, margin={"l": 10, "r": 10, "t": 28, "b": 10}, title=title,
                          xaxis_title="km" if by_distance else "minutes", showlegend=False)
        figures.append((column, fig))
    return figures


def zones_figure(seconds: list[float] | None, kind: str = "power"):
    """Minutes per zone (7 Coggan power zones or 5 HR zones); None when the ride has no time in any zone."""
    import plotly.graph_objects as go

    if not seconds or not any(seconds):
        return None
    names = [f"Z{i}" for i in range(1, len(seconds) + 1)]
    fig = go.Figure(go.Bar(x=names, y=[s / 60 for s in seconds], marker_color=list(ZONE_COLOURS[:len(seconds)])))
    power = kind == "power"
    fig.update_layout(height=280, margin=_MARGIN,
                      title="Time in power zones" if power else "Time in heart-rate zones",
                      xaxis_title="Coggan power zone" if power else "HR zone", yaxis_title="minutes")
    return fig


def power_curve_figure(curve: dict | None):
    """Best mean power per duration (log axis); None without a power curve."""
    import plotly.graph_objects as go

    if not curve:
        return None
    seconds = sorted(int(k) for k in curve)
    fig = go.Figure(go.Scatter(x=seconds, y=[curve[str(s)] for s in seconds], mode="lines+markers"))
    fig.update_layout(height=300, margin=_MARGIN, title="Power curve", xaxis_type="log",
                      xaxis_title="duration (s)", yaxis_title="best mean power (W)")
    return fig


def sections_gain(sections: list[dict]) -> tuple[float | None, float | None]:
    """(gain of every section, gain of the climbs): the first is the ride's elevation gain by construction."""
    gains = [s["elevation_gain_m"] for s in sections if s["elevation_gain_m"] is not None]
    if not gains:
        return None, None
    return float(sum(gains)), float(sum(s["elevation_gain_m"] or 0 for s in sections if s["kind"] == "climb"))


def climbs_table(sections: list[dict]) -> pd.DataFrame:
    """The ride's climbs (from its recorded route's sections); empty when it has none."""
    return pd.DataFrame([{
        "from km": round(s["start_m"] / 1000, 2), "length km": round(s["distance_m"] / 1000, 2),
        "gain m": None if s["elevation_gain_m"] is None else round(s["elevation_gain_m"]),
        "avg %": s["avg_grade_pct"], "max %": s["max_grade_pct"],
        "category": s["category"]} for s in sections if s["kind"] == "climb"])


def source_caption(ride: dict) -> str:
    """'Source: file ride.fit · 3,600 samples · also received as: …'."""
    text = f"Source: {ride['source']} {ride['source_file'] or ''} · {ride['sample_count']:,} samples"
    if ride["linked"]:
        text += " · also received as: " + ", ".join(str(link["source_file"] or link["external_id"])
                                                    for link in ride["linked"])
    return text
