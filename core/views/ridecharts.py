"""What the Rides, Ride and Compare pages show, built without Streamlit: list rows, labels, the detail's metric
tiles, the Ride page's charts as Vega-Lite specs (streams, time in zones, power curve), Compare's Plotly figures,
the climbs table and the source line.

The Ride page's specs hold no numbers of the ride (those go as rows), so picking another ride swaps rows in charts
the browser keeps; and the page loads no Plotly bundle (issue 17). Compare's figures are plotly graph_objects built
directly (plotly.express costs ~0.4 s a chart, see core.rides.dashboard).
Nothing here writes; ``load_ride_detail`` is the one read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.rides import store as rides
from core.rides.dashboard import ZONE_COLOURS
from core.views import bandcharts, fmt
from core.views.dashcharts import SCHEMA, arrow_rows, duration_log_axis
from core.views.downsample import envelope_rows
from core.views.fmt import METRIC, Column, Units
from core.views.text import plain

SORT_LABELS = {"started_at": "Date", "distance_m": "Distance", "moving_time_s": "Moving time", "tss": "TSS",
               "normalized_power_w": "NP", "avg_power_w": "Avg power", "avg_hr": "Avg HR",
               "elevation_gain_m": "Elevation gain", "name": "Name", "sport_type": "Sport"}
# (samples column, chart title, colour); speed is stored in m/s and shown in km/h
STREAMS = (("power", "Power (W)", "#E4572E"), ("hr", "Heart rate (bpm)", "#B3001B"),
           ("cadence", "Cadence (rpm)", "#8338EC"), ("speed", "Speed (km/h)", "#3A86FF"),
           ("ele", "Elevation (m)", "#2A9D8F"), ("w_prime_kj", "W′ balance (kJ)", "#6A4C93"))


def ride_label(row: dict) -> str:
    """'#12 2024-05-01 Morning ride' (the id alone when the ride has no start time)."""
    if not row.get("started_at"):
        return f"#{row['id']}"
    return f"#{row['id']} {row['started_at']:%Y-%m-%d} {plain(row['name'])}"


def ride_labels(rows: list[dict]) -> dict[int, str]:
    return {r["id"]: ride_label(r) for r in rows}


def is_athletes_ride(cur, athlete_id: int, ride_id: int) -> bool:
    """Whether the ride is there and the athlete's (one small read: the Ride page asks on every rerun)."""
    return cur.execute("SELECT count(*) FROM rides WHERE id = ? AND athlete_id = ?",
                       [ride_id, athlete_id]).fetchone()[0] > 0


def rides_table(rows: list[dict], units: Units = METRIC) -> pd.DataFrame:
    """The Rides list as shown: date in the rider's zone, distance with one decimal, moving time as h:mm, watts,
    load and its method, tags joined; "–" where a figure is missing."""
    def load(row):
        return f"{fmt.number(row['tss'])} {LOAD_SHORT.get(row['load_method'], '')}".strip()

    return fmt.table([{**r, "when": fmt.moment(r["started_at"], units), "load": load(r) if r["tss"] is not None
                       else fmt.MISSING, "tag_text": ", ".join(plain(t) for t in r["tags"])} for r in rows], [
        Column("id", "#", lambda v: str(v)), Column("when", "Date", str), Column("name", "Name"),
        Column("sport_type", "Sport"),
        Column("distance_m", f"Distance ({units.distance_unit})", lambda v: fmt.distance(v, units, unit=False)),
        Column("moving_time_s", "Moving (h:mm)", fmt.duration),
        Column("elevation_gain_m", f"Gain ({units.elevation_unit})", lambda v: fmt.elevation(v, units, unit=False)),
        Column("avg_power_w", "Avg (W)", lambda v: fmt.power(v, unit=False)),
        Column("normalized_power_w", "NP (W)", lambda v: fmt.power(v, unit=False)),
        Column("avg_hr", "Avg HR (bpm)", lambda v: fmt.heart_rate(v, unit=False)),
        Column("load", "Load", str), Column("tag_text", "Tags", lambda v: v or "")])


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def load_ride_detail(cur, athlete_id: int, ride_id: int, max_points: int = 1500) -> dict:
    """``rides.get_ride`` plus ``samples`` for the charts (about ``max_points`` rows chosen by LTTB per stream,
    each stream's highest and lowest value kept: a sprint stays on the chart; about one a pixel of a chart ~1,200
    px wide, as more only cost the browser time) and, for a ride with GPS, its
    recorded route's ``points`` and ``sections`` (else None and [])."""
    from core.views.downsample import chart_rows

    ride = rides.get_ride(cur, athlete_id, ride_id)
    samples = rides.ride_samples(cur, ride_id)  # read once: the charts' rows and W′ balance both come from it
    ride["w_prime"] = None
    if ride.get("max_power_w"):
        from core.views.powerview import ride_w_prime

        ride["w_prime"] = ride_w_prime(cur, athlete_id, ride, rides.streams_from_frame(samples))
    # W′ balance is drawn as a stream, under power: its rows are chosen with the others (its lowest kept)
    samples["w_prime_kj"] = ride["w_prime"]["at_samples_j"] / 1000 if ride["w_prime"] else np.nan
    rows = chart_rows(samples["t_s"].to_numpy(dtype=float), {
        column: samples[column].to_numpy(dtype=float, na_value=float("nan")) for column, _, _ in STREAMS},
        max_points)
    ride["samples"] = samples.iloc[rows].reset_index(drop=True)
    ride["sections"], ride["points"] = [], None
    if ride["route_id"] is not None:
        from core.routes.store import route_points, route_sections

        ride["sections"] = route_sections(cur, ride["route_id"])
        ride["points"] = route_points(cur, ride["route_id"])
    from core.coach.compliance import ride_compliance
    from core.rides.efforts import ride_efforts

    ride["efforts"] = ride_efforts(cur, athlete_id, ride_id)
    ride["compliance"] = ride_compliance(cur, athlete_id, ride_id)
    return ride


LOAD_HELP = {"power": "TSS from power: samples/3600 · IF² · 100",
             "hr": "TRIMP(100) from heart rate (no power): Banister's TRIMP scaled so one hour at LTHR = 100"}
# How a ride's load was computed, wherever the number shows: TSS needs power and an FTP, TRIMP is from HR.
LOAD_LABELS = {"power": "TSS (power)", "hr": "TRIMP (HR)"}
LOAD_SHORT = {"power": "TSS", "hr": "TRIMP"}
ALTITUDE_HELP = {"barometric": "From the barometric altimeter, lightly smoothed (3 m hysteresis)",
                 "gps": "From GPS altitude, which jitters by metres: smoothed over ~100 m, 8 m hysteresis",
                 "dem": "From a terrain model's elevations, lightly smoothed"}


def detail_metrics(ride: dict, units: Units = METRIC) -> list[tuple[str, str, str | None]]:
    """The detail's metric tiles as (label, value, help): short values (the unit in the label when it is long) so
    that none is cut off in a row of four."""
    m = ride["metrics"]
    moving = ride["moving_time_s"]
    avg_speed = (ride["distance_m"] / moving) if ride["distance_m"] and moving else None
    work_kj = m.get("work_kj")
    return [
        ("Distance", fmt.distance(ride["distance_m"], units) if ride["distance_m"] else "indoor", None),
        ("Moving time", fmt.duration(moving, with_seconds=True),
         f"Elapsed {fmt.duration(ride.get('elapsed_time_s'), with_seconds=True)}"),
        ("Elevation gain", fmt.elevation(ride.get("elevation_gain_m"), units),
         ALTITUDE_HELP.get(ride.get("altitude_source"), "No elevation recorded")),
        ("Avg speed", fmt.speed(avg_speed, units), "Distance / moving time"),
        ("Avg / NP (W)", f"{fmt.power(ride['avg_power_w'], unit=False)} / "
                         f"{fmt.power(ride['normalized_power_w'], unit=False)}", "Average and normalized power"),
        ("IF", fmt.ratio(ride["intensity_factor"]), "Intensity factor: NP / FTP"),
        (LOAD_SHORT.get(ride["load_method"], "TSS"), fmt.number(ride["tss"]),
         LOAD_HELP.get(ride["load_method"], "No load")),
        ("Work", fmt.energy(work_kj), "Mechanical work: Σ W · 1 s over the power samples"),
        ("Avg HR", fmt.heart_rate(ride["avg_hr"]), f"Max {fmt.heart_rate(ride.get('max_hr'))}"),
        ("VI / EF", f"{fmt.ratio(m.get('vi'))} / {fmt.ratio(m.get('ef'))}",
         "Variability index NP / avg power; efficiency factor NP / avg HR"),
        ("Pw:HR drift", fmt.pct(m.get("decoupling_pct")), "Aerobic decoupling, second half against first"),
    ]


def laps_table(laps: list[dict], units: Units = METRIC) -> pd.DataFrame:
    """A FIT file's laps: start, duration, distance, speed, power, heart rate, cadence, climbing."""
    def unitless(show):
        return lambda v: show(v, units, unit=False)

    rows = [{"n": i, **lap, "start": max(0.0, lap["start_s"]) if lap.get("start_s") is not None else None}
            for i, lap in enumerate(laps, start=1)]
    return fmt.table(rows, [
        Column("n", "Lap", str), Column("start", "Starts at", lambda v: fmt.duration(v, with_seconds=True)),
        Column("timer_s", "Time", lambda v: fmt.duration(v, with_seconds=True)),
        Column("distance_m", f"Distance ({units.distance_unit})", unitless(fmt.distance)),
        Column("avg_speed_ms", f"Avg speed ({units.speed_unit})", unitless(fmt.speed)),
        Column("avg_power_w", "Avg (W)", lambda v: fmt.power(v, unit=False)),
        Column("np_w", "NP (W)", lambda v: fmt.power(v, unit=False)),
        Column("max_power_w", "Max (W)", lambda v: fmt.power(v, unit=False)),
        Column("avg_hr", "Avg HR (bpm)", lambda v: fmt.heart_rate(v, unit=False)),
        Column("avg_cadence", "Cadence (rpm)", fmt.number),
        Column("elevation_gain_m", f"Gain ({units.elevation_unit})", unitless(fmt.elevation))])


def has_distance(samples: pd.DataFrame) -> bool:
    return not samples.empty and not bool(samples["dist_m"].isna().all())


# A band's points: the lowest and highest of each of 400 runs of rows, about 2 px each of a chart 800–1,400 px wide
# (at most 800 points a band, where every band drew every row chosen for any stream: up to 1,500 each).
BAND_BUCKETS = 400


def streams_chart(samples: pd.DataFrame, axis: str = "time") -> dict | None:
    """The ride's streams as a Vega-Lite spec carrying its rows (``spec["datasets"]``): one view, a band per
    stream with at least two values (its title, with the unit, above it), against minutes or km (minutes when
    the ride has no distance). One x scale: dragging or scrolling pans and zooms every band (double click
    resets); the pointer's moment is marked across the bands with all streams' values in its tooltip. None when
    no stream has two values.

    The spec depends only on which streams the ride has, never on its numbers or the axis: picking another ride
    of the same kind, or the other axis, keeps the chart and swaps its rows, where a new Plotly figure was a new
    chart to load and lay out (issue 17). Gaps (no value) stay gaps."""
    by_distance = axis == "distance" and has_distance(samples)
    unit = "km" if by_distance else "minutes"
    x = samples["dist_m"] / 1000 if by_distance else samples["t_s"] / 60
    columns = {"x": x.to_numpy(dtype=float, na_value=np.nan)}
    shown = []
    for column, title, colour in STREAMS:
        if column not in samples:  # W′ balance only comes with load_ride_detail
            continue
        y = samples[column].to_numpy(dtype=float, na_value=np.nan) * (3.6 if column == "speed" else 1)
        if np.isfinite(y).sum() >= 2:
            columns[column] = y
            shown.append((column, title, colour))
    if not shown:
        return None
    rows = pd.DataFrame(columns)
    tip_rows = bandcharts.tips(rows["x"].to_numpy(), unit, {
        title: (rows[column].to_numpy(), bandcharts.DECIMALS.get(column, 0)) for column, title, _ in shown})
    colours = {column: colour for column, _, colour in shown}
    lowest = {"stream_w_prime_lowest": arrow_rows(_w_prime_lowest(rows))} if "w_prime_kj" in colours else {}
    # Each band draws its own stream's envelope of the rows (its highs and lows kept, its gaps left open)
    band_rows = {column: rows.iloc[envelope_rows(rows[column].to_numpy(), BAND_BUCKETS)][["x", column]]
                 for column, _, _ in shown}
    return bandcharts.banded_spec(
        [(column, title) for column, title, _ in shown], unit,
        lambda column, y: {"name": f"{column}_line", "mark": bandcharts.line_mark(colours[column]),
                           "encoding": {"x": bandcharts.X, "y": y}},
        band_rows, tip_rows, zero=("w_prime_kj",), more_datasets=lowest,
        extra=lambda column, y: _lowest_w_prime(y) if column == "w_prime_kj" else [])


def _w_prime_lowest(rows: pd.DataFrame) -> pd.DataFrame:
    """W′ balance's lowest row (chart_rows keeps it), labelled, the label reading away from the nearer edge."""
    at = int(rows["w_prime_kj"].idxmin())
    x = rows["x"]
    return pd.DataFrame({"x": [x[at]], "w_prime_kj": [rows["w_prime_kj"][at]],
                         "label": [f"min {rows['w_prime_kj'][at]:.1f} kJ"],
                         "side": ["left" if x[at] < (x.min() + x.max()) / 2 else "right"]})


def _lowest_w_prime(y: dict) -> list[dict]:
    """The layers marking W′ balance's lowest point (a dataset of one row: filtering the rows for it would cost
    the browser an expression per row)."""
    lowest = {"name": "stream_w_prime_lowest"}
    return [{"data": lowest, "mark": {"type": "point", "filled": True, "color": "#E4572E", "size": 60},
             "encoding": {"x": bandcharts.X, "y": y}},
            *({"data": lowest, "transform": [{"filter": f"datum.side == '{side}'"}],
               "mark": {"type": "text", "dy": 12, "dx": 8 if side == "left" else -8, "align": side, "color": "#333"},
               "encoding": {"x": bandcharts.X, "y": y, "text": {"field": "label", "type": "nominal"}}}
              for side in ("left", "right"))]


def zones_chart(seconds: list[float] | None, kind: str = "power") -> dict | None:
    """Minutes per zone (7 Coggan power zones or 5 HR zones) as a Vega-Lite spec carrying its rows, otherwise
    the same for every ride with that many zones; None when the ride has no time in any zone."""
    if not seconds or not any(seconds):
        return None
    names = [f"Z{i}" for i in range(1, len(seconds) + 1)]
    rows = pd.DataFrame({"zone": names, "minutes": [s / 60 for s in seconds],
                         "time": [fmt.duration(s, with_seconds=True) for s in seconds]})
    power = kind == "power"
    spec = {"$schema": SCHEMA, "height": 240, "title": "Time in power zones" if power else "Time in heart-rate zones",
            "data": {"name": "zone_rows"}, "datasets": {"zone_rows": arrow_rows(rows)}, "mark": {"type": "bar"},
            "encoding": {"x": {"field": "zone", "type": "ordinal", "sort": names, "axis": {"labelAngle": 0},
                               "title": "Coggan power zone" if power else "HR zone"},
                         "y": {"field": "minutes", "type": "quantitative", "title": "minutes"},
                         "color": {"field": "zone", "type": "nominal", "legend": None,
                                   "scale": {"domain": names,
                                             "range": [ZONE_COLOURS[i % len(ZONE_COLOURS)] for i in range(len(names))]}},
                         "tooltip": [{"field": "zone", "type": "nominal", "title": "Zone"},
                                     {"field": "time", "type": "nominal", "title": "Time"}]}}
    return spec


def power_curve_chart(curve: dict | None) -> dict | None:
    """Best mean power per duration on a log axis labelled 1 s … 5 h (labels only within the ride's durations),
    as a spec carrying its rows, otherwise the same for every ride; None without a power curve."""
    if not curve:
        return None
    seconds = sorted(int(k) for k in curve)
    rows = pd.DataFrame({"duration_s": seconds, "power_w": [float(curve[str(s)]) for s in seconds],
                         "duration": [fmt.duration(s, with_seconds=True) for s in seconds]})
    spec = {"$schema": SCHEMA, "height": 260, "title": "Power curve", "data": {"name": "curve_rows"},
            "datasets": {"curve_rows": arrow_rows(rows)}, "mark": {"type": "line", "point": True},
            "encoding": {"x": duration_log_axis([s for s, _ in fmt.DURATION_TICKS], "duration"),
                         "y": {"field": "power_w", "type": "quantitative", "title": "best mean power (W)"},
                         "tooltip": [{"field": "duration", "type": "nominal", "title": "Duration"},
                                     {"field": "power_w", "type": "quantitative", "title": "Best (W)",
                                      "format": ".0f"}]}}
    return spec


def sections_gain(sections: list[dict]) -> tuple[float | None, float | None]:
    """(gain of every section, gain of the climbs): the first is the ride's elevation gain by construction."""
    gains = [s["elevation_gain_m"] for s in sections if s["elevation_gain_m"] is not None]
    if not gains:
        return None, None
    return float(sum(gains)), float(sum(s["elevation_gain_m"] or 0 for s in sections if s["kind"] == "climb"))


def climbs_table(sections: list[dict], units: Units = METRIC) -> pd.DataFrame:
    """The ride's climbs (from its recorded route's sections); empty when it has none."""
    rows = [s for s in sections if s["kind"] == "climb"]
    if not rows:
        return pd.DataFrame()
    return fmt.table(rows, [
        Column("start_m", f"From ({units.distance_unit})", lambda v: fmt.distance(v, units, unit=False)),
        Column("distance_m", f"Length ({units.distance_unit})", lambda v: fmt.distance(v, units, unit=False)),
        Column("elevation_gain_m", f"Gain ({units.elevation_unit})", lambda v: fmt.elevation(v, units, unit=False)),
        Column("avg_grade_pct", "Avg (%)", lambda v: fmt.pct(v, unit=False)),
        Column("max_grade_pct", "Max (%)", lambda v: fmt.pct(v, unit=False)),
        Column("category", "Category", lambda v: fmt.MISSING if not v else "HC" if v == "HC" else f"Cat {v}")])


def source_caption(ride: dict) -> str:
    """'Source: file ride.fit · 3,600 samples · also received as: …'."""
    text = f"Source: {ride['source']} {ride['source_file'] or ''} · {ride['sample_count']:,} samples"
    if ride["linked"]:
        text += " · also received as: " + ", ".join(str(link["source_file"] or link["external_id"])
                                                    for link in ride["linked"])
    return text


def _difference_value(unit: str, key_label: str, value, units: Units, *, delta: bool = False) -> str:
    """One figure of the Compare table in the rider's units; ``delta`` adds a sign."""
    if fmt.missing(value):
        return fmt.MISSING
    sign = ("+" if value > 0 else "−" if value < 0 else "") if delta else ""
    value = abs(value) if delta else value
    if unit == "s":
        text = fmt.duration(value, with_seconds=True)
    elif unit == "m":
        text = fmt.distance(value, units, decimals=2 if delta else 1)
    elif unit in ("W", "bpm", "%"):
        text = fmt.number(value, 1 if unit == "%" else 0, unit)
    else:
        text = fmt.number(value, 0 if key_label in ("TSS",) else 2)
    return sign + text if text != fmt.MISSING else text


def differences_frame(differences: pd.DataFrame, ride_headers: list[str], units: Units = METRIC) -> pd.DataFrame:
    """core.rides.compare's differences (one raw column per ride, named by ride label, then 'A − B') as the page
    shows them: 'Figure', one column per ride headed by ``ride_headers`` (A, B…), 'A − B'; units in each value."""
    ride_columns = [c for c in differences.columns if c not in ("figure", "unit", "A − B")]
    rows = []
    for record in differences.to_dict("records"):
        row = {"Figure": record["figure"]}
        for header, column in zip(ride_headers, ride_columns, strict=True):
            row[header] = _difference_value(record["unit"], record["figure"], record[column], units)
        row["A − B"] = _difference_value(record["unit"], record["figure"], record["A − B"], units, delta=True)
        rows.append(row)
    return pd.DataFrame(rows, columns=["Figure", *ride_headers, "A − B"])


def shared_climbs_frame(climbs: pd.DataFrame, units: Units = METRIC) -> pd.DataFrame:
    """Compare's shared climbs: position and size in the rider's units, times as m:ss, watts, W/kg, bpm."""
    def unitless(show):
        return lambda v: show(v, units, unit=False)

    def speed_kmh(v):
        return fmt.speed(None if fmt.missing(v) else v / 3.6, units, unit=False)

    def seconds(v):
        return fmt.duration(v, with_seconds=True)

    def delta_seconds(v):
        return fmt.MISSING if fmt.missing(v) else ("+" if v > 0 else "−" if v < 0 else "") + seconds(abs(v))

    return fmt.table(climbs.to_dict("records"), [
        Column("climb", "Climb", str), Column("start_km_a", f"Starts at ({units.distance_unit}, A)",
                                         lambda v: fmt.distance(None if fmt.missing(v) else v * 1000, units,
                                                                unit=False)),
        Column("length_m", f"Length ({units.distance_unit})", unitless(fmt.distance)),
        Column("gain_m", f"Gain ({units.elevation_unit})", unitless(fmt.elevation)),
        Column("time_s_a", "Time A", seconds), Column("time_s_b", "Time B", seconds),
        Column("time_delta_s", "A − B", delta_seconds),
        Column("avg_power_w_a", "Power A (W)", fmt.number), Column("avg_power_w_b", "Power B (W)", fmt.number),
        Column("w_per_kg_a", "W/kg A", lambda v: fmt.number(v, 2)),
        Column("w_per_kg_b", "W/kg B", lambda v: fmt.number(v, 2)),
        Column("avg_hr_a", "HR A (bpm)", fmt.number), Column("avg_hr_b", "HR B (bpm)", fmt.number),
        Column("avg_speed_kmh_a", f"Speed A ({units.speed_unit})", speed_kmh),
        Column("avg_speed_kmh_b", f"Speed B ({units.speed_unit})", speed_kmh)])


def this_week_tiles(week: dict, units: Units = METRIC) -> list[tuple]:
    """The Dashboard's week so far against last week by the same day: (label, value, help, delta, delta colour).
    Deltas stay short (a card is about 230 px wide at 1280 px); the long comparison is in the help."""
    def show(key, value, *, delta=False):
        if key == "distance_m":
            text = fmt.distance(abs(value) if delta else value, units)
        elif key == "moving_time_s":
            text = fmt.duration(abs(value) if delta else value)
        else:
            text = fmt.number(abs(value) if delta else value)
        return (("+" if value >= 0 else "−") + text) if delta else text

    planned, tiles = week["planned"], []
    for key, label in (("distance_m", "Distance"), ("moving_time_s", "Moving time"), ("tss", "TSS"),
                       ("rides", "Rides")):
        now, last = week["this_week"][key], week["last_week"][key]
        to_date = week["last_week_to_date"][key]
        plan_text = ""
        if planned and key in ("moving_time_s", "tss"):
            plan_text = f" · planned this week {show(key, planned['duration_s' if key == 'moving_time_s' else key])}"
        tiles.append((label, show(key, now), f"Last week by this day: {show(key, to_date)}; whole last week: "
                      f"{show(key, last)}{plan_text}", f"{show(key, now - to_date, delta=True)} on last week",
                      "off" if key == "rides" else "normal"))
    return tiles


def fitness_tiles(day) -> list[tuple]:
    """The Dashboard's fitness tiles for one day's row (ctl, atl, tsb, ramp), as (label, value, help)."""
    return [("Fitness (CTL)", f"{day['ctl']:.1f}", "Chronic training load: TSS averaged over about six weeks"),
            ("Fatigue (ATL)", f"{day['atl']:.1f}", "Acute training load: TSS averaged over about a week"),
            ("Form (TSB)", f"{day['tsb']:+.1f}", "Training stress balance: yesterday's CTL − ATL"),
            ("Ramp (CTL, 7 days)", f"{day['ramp']:+.1f}", "CTL now against 7 days ago")]


def comparison_shown(aligned, channels: list[str], max_points: int = 1200):
    """The aligned streams as the Compare charts draw them: about ``max_points`` rows shared by every ride (about
    one a pixel of the chart's width), chosen by LTTB over each ride's ``channels`` (highs and lows kept,
    core.views.downsample), so n rides × 4 SVG panels redraw fast in the browser; all rows when there are no more."""
    from core.rides.compare import Aligned
    from core.views.downsample import chart_rows

    streams = {f"{i}:{c}": series[c] for i, series in enumerate(aligned.series) for c in channels if c in series}
    rows = chart_rows(aligned.x, streams, max_points)
    if len(rows) == len(aligned.x):
        return aligned
    return Aligned(aligned.axis, aligned.x[rows], [{k: v[rows] for k, v in s.items()} for s in aligned.series])
