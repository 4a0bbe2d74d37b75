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
DECIMALS = {"speed": 1, "w_prime_kj": 1}  # a tooltip's km/h and kJ to 0.1; the other streams as whole numbers
# y labels inside the band, over the gridlines: the bands share the view's left edge, so labels outside would
# overlap one another.
INSIDE_Y = {"orient": "left", "ticks": False, "domain": False, "labelAlign": "left", "labelPadding": -4,
            "labelBaseline": "bottom", "labelOpacity": 0.8, "tickCount": 4, "grid": True, "gridOpacity": 0.5,
            "labelFlush": True}


X = {"field": "x", "type": "quantitative", "title": None, "scale": {"nice": False},
     "axis": {"grid": True, "gridOpacity": 0.5}}  # minutes or km: the unit is data (``band_text``), not spec


def banded_spec(bands: list[tuple[str, str]], unit: str, line: Callable[[str, dict], dict],
                rows: pd.DataFrame | dict[str, pd.DataFrame], tip_rows: pd.DataFrame, *, zero: tuple[str, ...] = (),
                extra: Callable[[str, dict], list[dict]] | None = None, more_datasets: dict | None = None) -> dict:
    """A spec of one view with a band per (column, title), top to bottom, against ``rows["x"]`` in ``unit``
    ("minutes" or "km"). ``line(column, y)`` is a band's line layer given its y encoding; ``extra(column, y)``
    more layers on that band's scale (a marked point). ``tip_rows`` (``tips``) carry the tooltip. The titles
    and the unit travel as data, so the spec depends only on the band columns and tooltip fields: another ride,
    axis or A − B stream swaps rows in the chart the browser already has.

    ``rows`` is one frame every band draws from (``band_rows``), or each band's own rows ({column: frame of x and
    column}, the dataset ``{column}_rows``): a band then draws only the rows chosen for its stream, where a shared
    frame made every band draw every stream's rows (the browser encodes each point of each band, issue 17)."""
    own_rows = isinstance(rows, dict)
    # The view's height as asked; each band is a fraction of the height drawn, as Streamlit fits the whole view
    # (x axis included) into the height asked.
    height = len(bands) * (BAND_PX + TITLE_PX)
    layers = []
    for i, (column, _) in enumerate(bands):
        top = (i * (BAND_PX + TITLE_PX) + TITLE_PX) / height
        bottom = top + BAND_PX / height
        y = {"field": column, "type": "quantitative", "title": None, "axis": INSIDE_Y,
             "scale": {"zero": column in zero,
                       "range": [{"expr": f"height * {bottom:.6f}"}, {"expr": f"height * {top:.6f}"}]}}
        band = line(column, y)
        if own_rows:
            band = {"data": {"name": f"{column}_rows"}, **band}
        more = extra(column, y) if extra else []
        layers += [{"layer": [band, *more]} if more else band,
                   _text(i, {"align": "left", "fontSize": 13, "fontWeight": "bold", "x": 0,
                             "y": {"expr": f"height * {top:.6f} - 4"}, "baseline": "bottom"})]
    layers.append(_text(-1, {"align": "center", "baseline": "top", "x": {"expr": "width / 2"},
                             "y": {"expr": "height + 20"}, "color": "#555"}))  # the x axis's unit
    # Invisible rules across every band carry the tooltip; the one nearest the pointer shows.
    tooltip = [{"field": "at", "type": "nominal", "title": "at"},
               *({"field": _field(name), "type": "nominal", "title": name} for name in tip_rows.columns[2:])]
    layers.append({"name": "band_hover_rules", "data": {"name": "band_tips"},
                   "mark": {"type": "rule", "color": "#666", "clip": True, "y": 0, "y2": {"expr": "height"}},
                   "encoding": {"x": X, "tooltip": tooltip,
                                "opacity": {"condition": {"param": "band_hover", "empty": False, "value": 0.6},
                                            "value": 0}}})
    text = pd.DataFrame({"band": [*range(len(bands)), -1], "text": [title for _, title in bands] + [unit]})
    band_datasets = ({f"{column}_rows": arrow_rows(frame) for column, frame in rows.items()} if own_rows
                     else {"band_rows": arrow_rows(rows)})
    return {"$schema": SCHEMA, **({} if own_rows else {"data": {"name": "band_rows"}}), "height": height,
            "layer": layers, "resolve": {"scale": {"y": "independent"}, "axis": {"y": "independent"}},
            "datasets": {**band_datasets, "band_tips": arrow_rows(tip_rows), "band_text": arrow_rows(text),
                         **(more_datasets or {})},
            "params": [
                {"name": "band_zoom", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales",
                 "views": [f"{bands[0][0]}_line"]},
                {"name": "band_hover", "select": {"type": "point", "fields": ["x"], "nearest": True,
                                                  "on": "pointerover", "clear": "pointerout"},
                 "views": ["band_hover_rules"]}]}


def _text(band: int, mark: dict) -> dict:
    """A band's title (or, band −1, the x axis's unit) from ``band_text``."""
    return {"data": {"name": "band_text"}, "transform": [{"filter": f"datum.band == {band}"}],
            "mark": {"type": "text", **mark}, "encoding": {"text": {"field": "text", "type": "nominal"}}}


def _field(name: str) -> str:
    """A column name as a Vega-Lite field (a dot or bracket would read as a nested field)."""
    return name.replace("\\", "\\\\").replace(".", "\\.").replace("[", "\\[").replace("]", "\\]")


def tips(x: np.ndarray, unit: str, columns: dict[str, tuple[np.ndarray, int]]) -> pd.DataFrame:
    """The tooltip rows: at most MAX_TIPS moments of ``x`` ("at": '86.5 min', '28.77 km'), each
    ``{title: (values, decimals)}`` rounded and written as a rider reads it ('Power (W)': '212', a gap '–').
    Fewer rules than rows, and no formatting per rule in the browser: the chart's cost in the browser grows
    with every mark it encodes."""
    step = max(1, -(-len(x) // MAX_TIPS))
    at = np.asarray(x, dtype=float)[::step]
    out = pd.DataFrame({"x": at, "at": ["–" if not np.isfinite(v) else f"{v:.2f} km" if unit == "km"
                                        else f"{v:.1f} min" for v in at]})
    for title, (values, decimals) in columns.items():
        out[title] = [f"{v:,.{decimals}f}" if np.isfinite(v) else "–" for v in np.asarray(values)[::step]]
    return out


def line_mark(colour: str | None = None, width: float = 1) -> dict:
    return {"type": "line", "strokeWidth": width, "clip": True, **({"color": colour} if colour else {})}


# ---------------------------------------------------------------------------------------------- Compare


def comparison_chart(shown, channels: list[str], names: list[str], colours: tuple[str, ...]) -> dict | None:
    """Compare's streams: a band per channel, one line per ride in its colour (the legend names the rides,
    ``names`` beginning "A: ", "B: "…, so in that order), against minutes or km; the tooltip lists every ride's
    value at the pointer's moment (A Power (W), B Power (W), …). ``shown`` is ``comparison_shown``'s thinned
    Aligned. None without channels."""
    from core.rides.compare import CHANNEL_LABELS

    if not channels:
        return None
    unit, x = _axis(shown)
    letters = [chr(ord("A") + i) for i in range(len(shown.series))]
    frames = [pd.DataFrame({"x": x, "ride": names[i], **{c: series[c] for c in channels}})
              for i, series in enumerate(shown.series)]
    colour = {"field": "ride", "type": "nominal", "title": None,
              "scale": {"range": [colours[i % len(colours)] for i in range(len(shown.series))]},
              "legend": {"orient": "top", "labelLimit": 360, "symbolType": "stroke"}}
    tip_columns = {f"{letters[i]} {CHANNEL_LABELS[c]}": (series[c], DECIMALS.get(c, 0))
                   for c in channels for i, series in enumerate(shown.series)}
    return banded_spec([(c, CHANNEL_LABELS[c]) for c in channels], unit,
                       lambda column, y: {"name": f"{column}_line", "mark": line_mark(width=1.4),
                                          "encoding": {"x": X, "y": y, "color": colour}},
                       pd.concat(frames, ignore_index=True), tips(x, unit, tip_columns))


def difference_chart(shown, channel: str) -> dict:
    """Compare's A − B of one channel (or the time gap, 't_s': B behind A when negative) against the shared
    axis, filled to zero, with its value at the pointer. The same spec for every channel and axis (the title
    and unit are data): choosing another stream swaps rows."""
    from core.rides.compare import CHANNEL_LABELS

    unit, x = _axis(shown)
    delta = shown.delta(channel)
    return banded_spec([("delta", f"A − B, {CHANNEL_LABELS[channel]}")], unit,
                       lambda column, y: {"name": "delta_line",
                                          "mark": {"type": "area", "line": {"color": "#1F2933", "strokeWidth": 1.2},
                                                   "color": "#1F2933", "opacity": 0.25, "clip": True},
                                          "encoding": {"x": X, "y": y, "y2": {"datum": 0}}},
                       pd.DataFrame({"x": x, "delta": delta}),
                       tips(x, unit, {"A − B": (delta, DECIMALS.get(channel, 0))}), zero=("delta",))


def _axis(shown) -> tuple[str, np.ndarray]:
    """The shared x as the charts show it: minutes of elapsed time, or km."""
    x = np.asarray(shown.x, dtype=float)
    return ("minutes", x / 60) if shown.axis == "time" else ("km", x / 1000)
