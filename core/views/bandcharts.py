"""Streams as bands of one Vega-Lite view (the Ride page's streams, Compare's overlaid rides and their A − B): a
band per stream, its title above it, one x scale that every band pans and zooms with, and one set of invisible
rules across the bands carrying the tooltip of the pointer's moment. Specs carry their rows as named Arrow
datasets and depend only on which streams are drawn (and the axis), never on the numbers or names: another ride
swaps the rows of the chart the browser already has (issue 17). Pure: reads nothing, no Streamlit.

One view rather than a panel per stream: each panel needed its own hover rules, and a pick on the Ride page then
cost 0.07 s more in the browser (bench/app_pages.py)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from core.views.dashcharts import SCHEMA, arrow_rows

BAND_PX, TITLE_PX = 110, 24  # a stream's band and the title above it
MAX_TIPS = 400  # hover targets: one every ~2.5 px of a wide chart
# y labels inside the band, over the gridlines: the bands share the view's left edge, so labels outside would
# overlap one another.
INSIDE_Y = {"orient": "left", "ticks": False, "domain": False, "labelAlign": "left", "labelPadding": -4,
            "labelBaseline": "bottom", "labelOpacity": 0.8, "tickCount": 4, "grid": True, "gridOpacity": 0.5,
            "labelFlush": True}


def x_encoding(x_name: str) -> dict:
    """The shared x: minutes or km, named as the tooltip shows it."""
    return {"field": x_name, "type": "quantitative", "scale": {"nice": False},
            "axis": {"titlePadding": 2, "grid": True, "gridOpacity": 0.5}}


def banded_spec(bands: list[tuple[str, str]], x_name: str, line: Callable[[str, dict], dict], datasets: dict,
                *, zero: tuple[str, ...] = (), extra: Callable[[str, dict], list[dict]] | None = None) -> dict:
    """A spec of one view with a band per (column, title), top to bottom. ``line(column, y)`` is a band's line
    layer given its y encoding; ``extra(column, y)`` more layers on that band's scale (a marked point);
    ``datasets`` holds the rows (``band_rows``), the tooltip rows (``band_tips``) and any other named dataset."""
    x = x_encoding(x_name)
    # The view's height as asked; each band is a fraction of the height drawn, as Streamlit fits the whole view
    # (x axis included) into the height asked.
    height = len(bands) * (BAND_PX + TITLE_PX)
    layers = []
    for i, (column, title) in enumerate(bands):
        top = (i * (BAND_PX + TITLE_PX) + TITLE_PX) / height
        bottom = top + BAND_PX / height
        y = {"field": column, "type": "quantitative", "title": None, "axis": INSIDE_Y,
             "scale": {"zero": column in zero,
                       "range": [{"expr": f"height * {bottom:.6f}"}, {"expr": f"height * {top:.6f}"}]}}
        band = line(column, y)
        more = extra(column, y) if extra else []
        layers += [{"layer": [band, *more]} if more else band,
                   {"data": {"values": [{"title": title}]},
                    "mark": {"type": "text", "align": "left", "baseline": "bottom", "fontSize": 13,
                             "fontWeight": "bold", "x": 0, "y": {"expr": f"height * {top:.6f} - 4"}},
                    "encoding": {"text": {"field": "title"}}}]
    # Invisible rules across every band carry the tooltip; the one nearest the pointer shows.
    layers.append({"name": "band_hover_rules", "data": {"name": "band_tips"},
                   "mark": {"type": "rule", "color": "#666", "clip": True, "tooltip": {"content": "data"},
                            "y": 0, "y2": {"expr": "height"}},
                   "encoding": {"x": x,
                                "opacity": {"condition": {"param": "band_hover", "empty": False, "value": 0.6},
                                            "value": 0}}})
    return {"$schema": SCHEMA, "data": {"name": "band_rows"}, "height": height, "layer": layers,
            "resolve": {"scale": {"y": "independent"}, "axis": {"y": "independent"}},
            "datasets": datasets,
            "params": [
                {"name": "band_zoom", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales",
                 "views": [f"{bands[0][0]}_line"]},
                {"name": "band_hover", "select": {"type": "point", "fields": [x_name], "nearest": True,
                                                  "on": "pointerover", "clear": "pointerout"},
                 "views": ["band_hover_rules"]}]}


def tips(x: np.ndarray, x_name: str, columns: dict[str, tuple[np.ndarray, int]]) -> pd.DataFrame:
    """The tooltip rows: at most MAX_TIPS moments of ``x``, each ``{title: (values, decimals)}`` rounded and
    written as a rider reads it ('Power (W)': '212', a gap '–'). Fewer rules than rows, and no formatting per
    rule in the browser: the chart's cost in the browser grows with every mark it encodes."""
    step = max(1, -(-len(x) // MAX_TIPS))
    out = pd.DataFrame({x_name: np.round(np.asarray(x, dtype=float)[::step], 2 if x_name == "km" else 1)})
    for title, (values, decimals) in columns.items():
        out[title] = [f"{v:,.{decimals}f}" if np.isfinite(v) else "–" for v in np.asarray(values)[::step]]
    return out


def line_mark(colour: str | None = None, width: float = 1) -> dict:
    return {"type": "line", "strokeWidth": width, "clip": True, **({"color": colour} if colour else {})}


# ---------------------------------------------------------------------------------------------- Compare
DECIMALS = {"speed": 1}  # km/h to 0.1 (compare_rides gives it in km/h); the other streams as whole numbers


def comparison_chart(shown, channels: list[str], names: list[str], colours: tuple[str, ...]) -> dict | None:
    """Compare's streams: a band per channel, one line per ride in its colour (the legend names the rides,
    ``names`` beginning "A: ", "B: "…, so in that order), against minutes or km; the tooltip lists every ride's value at the pointer's moment
    (A Power (W), B Power (W), …). ``shown`` is ``comparison_shown``'s thinned Aligned. None without channels."""
    from core.rides.compare import CHANNEL_LABELS

    if not channels:
        return None
    x_name, x = _axis(shown)
    letters = [chr(ord("A") + i) for i in range(len(shown.series))]
    frames = [pd.DataFrame({x_name: x, "ride": names[i], **{c: _shown(series, c) for c in channels}})
              for i, series in enumerate(shown.series)]
    colour = {"field": "ride", "type": "nominal", "title": None,
              "scale": {"range": [colours[i % len(colours)] for i in range(len(shown.series))]},
              "legend": {"orient": "top", "labelLimit": 360, "symbolType": "stroke"}}
    tip_columns = {f"{letters[i]} {CHANNEL_LABELS[c]}": (_shown(series, c), DECIMALS.get(c, 0))
                   for c in channels for i, series in enumerate(shown.series)}
    return banded_spec([(c, CHANNEL_LABELS[c]) for c in channels], x_name,
                       lambda column, y: {"name": f"{column}_line", "mark": line_mark(width=1.4),
                                          "encoding": {"x": x_encoding(x_name), "y": y, "color": colour}},
                       {"band_rows": arrow_rows(pd.concat(frames, ignore_index=True)),
                        "band_tips": arrow_rows(tips(x, x_name, tip_columns))})


def difference_chart(shown, channel: str) -> dict:
    """Compare's A − B of one channel (or the time gap, 't_s': B behind A when negative) against the shared
    axis, filled to zero, with its value at the pointer."""
    from core.rides.compare import CHANNEL_LABELS

    x_name, x = _axis(shown)
    delta = _shown(shown.series[0], channel) - _shown(shown.series[1], channel)
    title = f"A − B, {CHANNEL_LABELS[channel]}"
    spec = banded_spec([("delta", title)], x_name,
                       lambda column, y: {"name": "delta_line",
                                          "mark": {"type": "area", "line": {"color": "#1F2933", "strokeWidth": 1.2},
                                                   "color": "#1F2933", "opacity": 0.25, "clip": True},
                                          "encoding": {"x": x_encoding(x_name), "y": y, "y2": {"datum": 0}}},
                       {"band_rows": arrow_rows(pd.DataFrame({x_name: x, "delta": delta})),
                        "band_tips": arrow_rows(tips(x, x_name, {title: (delta, DECIMALS.get(channel, 0))}))},
                       zero=("delta",))
    return spec


def _axis(shown) -> tuple[str, np.ndarray]:
    """The shared x as the charts show it: minutes of elapsed time, or km."""
    x = np.asarray(shown.x, dtype=float)
    return ("minutes", x / 60) if shown.axis == "time" else ("km", x / 1000)


def _shown(series: dict, channel: str) -> np.ndarray:
    return np.asarray(series[channel], dtype=float)
