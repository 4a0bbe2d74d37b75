"""The Dashboard's four charts as Vega-Lite specs (plain dicts, data inline), built without Streamlit.

Why Vega-Lite and not Plotly here: the Dashboard is the first page a rider sees, and in the browser Plotly's
4.7 MB bundle took 3–5 s to load and compile before the first chart was drawn; Vega-Lite's is a sixth of that
(issue 17, bench/app_start.py). Specs are written out as data, not through Altair, so the server imports nothing.
Every text that came from a file (a sport's name) is ``plain``: Vega draws text as text, never as markup.
"""

from __future__ import annotations

import math

import pandas as pd

from core.rides.dashboard import METRICS, SPORT_COLOURS, SUMMED_METRICS, ZONE_COLOURS
from core.views.fmt import DURATION_TICKS, duration_axis, label
from core.views.text import plain

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
FITNESS_COLOURS = {"CTL": "#3A86FF", "ATL": "#E4572E", "TSB": "#2A9D8F"}
SEASON_COLOURS = ("#E4572E", "#6C757D")  # this season, last season
_LEGEND = {"orient": "bottom", "title": None}


def _number(value, decimals: int = 1) -> float | None:
    """A JSON-safe number: NaN and None become null (Vega leaves a gap), numpy scalars plain floats."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), decimals)


def _day(value) -> str:
    return pd.Timestamp(value).date().isoformat()


def _spec(height: int, values: list[dict], **rest) -> dict:
    return {"$schema": SCHEMA, "height": height, "data": {"values": values}, **rest}


def _period_axis(title: str, period: str) -> dict:
    """An ordinal axis of ISO dates (they sort by time) labelled '4 May' for weeks and 'May 2026' for months;
    dates are read as UTC so no time zone moves a label a day."""
    label = "%-d %b" if period == "week" else "%b %Y"
    return {"field": "start", "type": "ordinal", "title": title, "sort": "ascending",
            "axis": {"labelExpr": f"utcFormat(toDate(datum.value), '{label}')", "labelAngle": -45,
                     "labelOverlap": True}}


def fitness_chart(frame: pd.DataFrame) -> dict:
    """CTL and ATL lines and TSB bars per day; the planned (projected) days dashed and lighter. Hovering a day
    shows all three values."""
    values = [{"day": _day(row.date), "CTL": _number(row.ctl), "ATL": _number(row.atl), "TSB": _number(row.tsb),
               "part": "plan" if bool(row.projected) else "done"}
              for row in frame.itertuples(index=False)]
    x = {"field": "day", "type": "temporal", "title": None}
    series = list(FITNESS_COLOURS)
    colour = {"field": "series", "type": "nominal", "legend": _LEGEND,
              "scale": {"domain": series, "range": list(FITNESS_COLOURS.values())}}
    tooltip = [{"field": "day", "type": "temporal", "title": "Day", "format": "%a %-d %b %Y"},
               *({"field": name, "type": "quantitative", "format": ".1f"} for name in series),
               {"field": "part", "type": "nominal", "title": "From"}]
    return _spec(340, values, layer=[
        {"transform": [{"calculate": "'TSB'", "as": "series"}],
         "mark": {"type": "bar"},
         "encoding": {"x": x, "y": {"field": "TSB", "type": "quantitative", "title": "TSS / day"}, "color": colour,
                      "opacity": {"condition": {"test": "datum.part == 'plan'", "value": 0.35}, "value": 0.7}}},
        {"transform": [{"fold": ["CTL", "ATL"], "as": ["series", "value"]}],
         "mark": {"type": "line", "strokeWidth": 2},
         "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"}, "color": colour,
                      "strokeDash": {"field": "part", "type": "nominal", "legend": None,
                                     "scale": {"domain": ["done", "plan"], "range": [[1, 0], [5, 4]]}}}},
        # One invisible full-height rule per day carries the tooltip; it shows where the pointer is.
        {"mark": {"type": "rule", "color": "#888", "strokeWidth": 6},
         "params": [{"name": "day_hover", "select": {"type": "point", "fields": ["day"], "nearest": True,
                                                     "on": "pointerover", "clear": "pointerout"}}],
         "encoding": {"x": x, "tooltip": tooltip,
                      "opacity": {"condition": {"param": "day_hover", "empty": False, "value": 0.25},
                                  "value": 0}}},
    ])


def sport_name(sport) -> str:
    """'Indoor cycling', not indoor_cycling."""
    return plain(label(sport), 60)


def volume_chart(totals: pd.DataFrame, metric: str, period: str, plan_value: float | None = None) -> dict:
    """Bars per period and sport: stacked for sums, side by side for averages; this week's plan as a dotted
    line."""
    label, factor, unit = METRICS[metric]
    title = f"{label} {unit}".strip()
    sports = sorted({str(s) for s in totals["sport_type"]})
    names = [sport_name(s) for s in sports]
    values = [{"start": _day(row.period_start), "sport": sport_name(row.sport_type),
               "value": _number(getattr(row, metric) * factor, 2)}
              for row in totals.itertuples(index=False)]
    encoding = {"x": _period_axis("Week" if period == "week" else "Month", period),
                "y": {"field": "value", "type": "quantitative", "title": title,
                      "stack": "zero" if metric in SUMMED_METRICS else None},
                "color": {"field": "sport", "type": "nominal", "legend": _LEGEND,
                          "scale": {"domain": names, "range": [SPORT_COLOURS[i % len(SPORT_COLOURS)]
                                                               for i in range(len(names))]}},
                "tooltip": [{"field": "start", "type": "ordinal", "title": "From"},
                            {"field": "sport", "type": "nominal", "title": "Sport"},
                            {"field": "value", "type": "quantitative", "title": title, "format": ",.1f"}]}
    if metric not in SUMMED_METRICS:
        encoding["xOffset"] = {"field": "sport", "type": "nominal", "sort": names}
    layers = [{"mark": {"type": "bar"}, "encoding": encoding}]
    if plan_value is not None:
        plan = {"y": {"datum": _number(plan_value * 1.0, 2), "type": "quantitative"}}
        layers += [{"mark": {"type": "rule", "strokeDash": [2, 3], "color": "#333"}, "encoding": plan},
                   {"mark": {"type": "text", "text": "this week's plan", "align": "left", "dy": -7, "x": 4,
                             "color": "#333"}, "encoding": plan}]
    return _spec(320, values, layer=layers)


def zones_chart(zones: pd.DataFrame, kind: str) -> dict:
    """Hours per zone per week, stacked, in the zone colours used everywhere else."""
    prefix = "Power" if kind == "power" else "HR"
    present = sorted({int(z) for z in zones["zone"]})
    names = [f"{prefix} Z{z}" for z in present]
    values = [{"start": _day(row.period_start), "zone": f"{prefix} Z{int(row.zone)}", "order": int(row.zone),
               "hours": _number(row.seconds / 3600, 2)}
              for row in zones.itertuples(index=False)]
    return _spec(300, values, mark={"type": "bar"}, encoding={
        "x": _period_axis("Week", "week"),
        "y": {"field": "hours", "type": "quantitative", "title": "hours", "stack": "zero"},
        # up to 7 zones in a half-width column: four to a line, so none is cut off at the edge
        "color": {"field": "zone", "type": "nominal", "legend": {**_LEGEND, "columns": 4},
                  "scale": {"domain": names, "range": [ZONE_COLOURS[(z - 1) % len(ZONE_COLOURS)] for z in present]}},
        "order": {"field": "order", "type": "quantitative"},
        "tooltip": [{"field": "start", "type": "ordinal", "title": "Week of"},
                    {"field": "zone", "type": "nominal", "title": "Zone"},
                    {"field": "hours", "type": "quantitative", "title": "Hours", "format": ".2f"}]})


def bests_chart(bests: pd.DataFrame, season: int) -> dict:
    """Best power per duration on a log axis labelled 5 s … 1 h, this season against last."""
    labels = dict(DURATION_TICKS)
    ticks = duration_axis(float(bests["duration_s"].max()) if not bests.empty else 1.0)["tickvals"]
    values = []
    for column, name in (("this_season_w", str(season)), ("last_season_w", str(season - 1))):
        values += [{"duration_s": int(row.duration_s), "duration": labels.get(int(row.duration_s),
                                                                               f"{int(row.duration_s)} s"),
                    "season": name, "power_w": _number(getattr(row, column), 0)}
                   for row in bests.itertuples(index=False) if _number(getattr(row, column)) is not None]
    return _spec(300, values, mark={"type": "line", "point": True}, encoding={
        "x": duration_log_axis(ticks, "Duration"),
        "y": {"field": "power_w", "type": "quantitative", "title": "Best power (W)"},
        "color": {"field": "season", "type": "nominal", "legend": _LEGEND,
                  "scale": {"domain": [str(season), str(season - 1)], "range": list(SEASON_COLOURS)}},
        "tooltip": [{"field": "season", "type": "nominal", "title": "Season"},
                    {"field": "duration", "type": "nominal", "title": "Duration"},
                    {"field": "power_w", "type": "quantitative", "title": "Best power (W)"}]})


def duration_log_axis(ticks: list[int], title: str) -> dict:
    """A log x encoding of ``duration_s`` with ticks at ``ticks`` labelled 5 s, 1 min, 1 h … (Vega draws only the
    ticks within the data's range)."""
    labels = dict(DURATION_TICKS)
    # The tick labels are ours (DURATION_TICKS), so spelling them into the expression is safe.
    label_expr = " : ".join(f"datum.value == {s} ? '{labels[s]}'" for s in ticks) + " : ''"
    return {"field": "duration_s", "type": "quantitative", "title": title, "scale": {"type": "log", "nice": False},
            "axis": {"values": ticks, "labelExpr": label_expr}}


def arrow_rows(frame: pd.DataFrame):
    """A chart's rows for a named dataset (``spec["datasets"]``, which Streamlit sends as Arrow): without the
    frame's index, which would reach the browser as a column (and a tooltip showing every field would list it)."""
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def dataset_frames(spec: dict) -> dict[str, pd.DataFrame]:
    """A spec's named datasets as frames (for tests and for anyone reading a chart's numbers)."""
    return {name: rows.to_pandas() for name, rows in spec.get("datasets", {}).items()}


def spec_values(spec: dict) -> list[dict]:
    """The rows a spec draws (for tests and for anyone reading a chart's numbers)."""
    return spec["data"]["values"]
