"""The general GPX reader and the bounds on a document's shape (split from core/files/gpx.py, which holds the
fast path, times and ``read_gpx``): ``check_shape`` refuses in linear time what no GPX writer produces, and
``parse_tree`` streams any GPX element by element with memory bounded by the points it keeps. Never the database.
"""

from __future__ import annotations

import io
from array import array
from xml.etree.ElementTree import iterparse

import numpy as np

from core.errors import InvalidFileError

# Local element name -> the stream it feeds. Covers Garmin TrackPointExtension v1/v2 (hr, cad, atemp, wtemp),
# Strava's bare <power>, gpxpx:PowerExtension <PowerInWatts>, cluetrust gpxdata (hr, cadence, temp).
_EXTENSION_FIELDS = {
    "hr": "hr", "heartrate": "hr",
    "cad": "cad", "cadence": "cad",
    "atemp": "temp", "temp": "temp", "wtemp": "temp",
    "power": "power", "PowerInWatts": "power", "watts": "power",
}

def _local(tag: str) -> str:
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag.rpartition(":")[2]


def _to_float(text: str | None) -> float:
    if text is None:
        return np.nan
    try:
        return float(text)
    except ValueError:
        return np.nan


class _Buffers:
    """Per-point values kept as raw doubles (8 bytes each); times as the strings the file holds."""

    def __init__(self) -> None:
        self.lat = array("d")
        self.lon = array("d")
        self.ele = array("d")
        self.hr = array("d")
        self.cad = array("d")
        self.temp = array("d")
        self.power = array("d")
        self.times: list[str | None] | np.ndarray = []  # or datetime64[us] from _parse_fast
        self.any_time = False

    def __len__(self) -> int:
        return len(self.lat)


# Local element names that matter outside a point; everything else is skipped at the cost of a dict lookup.
_OUTER = {"trkpt": "trkpt", "rtept": "rtept", "wpt": "wpt", "trk": "trk", "rte": "rte", "metadata": "metadata",
          "trkseg": "trkseg"}


# Bounds on the shape of a document, checked before any parser builds anything (issue 16: a 16.8 MB GPX with a
# million attributes on one point took 90 s and 4.4 GB). Real GPX files stay far below each: a point's tag is a
# few dozen bytes, elements nest about eight deep, and everything outside the points is a few hundred elements.
MAX_TAG_BYTES = 64 * 1024
MAX_DEPTH = 256
MAX_OTHER_ELEMENTS = 200_000
MAX_POINTS = 2_000_000  # 23 days at one point a second
_SHAPE_CHUNK = 1 << 20


def check_shape(data: bytes, filename: str, ranges: list[tuple[int, int]] | None = None) -> None:
    """Refuse, in linear time and about a megabyte of memory whatever the input, a document no GPX writer
    produces: one tag longer than MAX_TAG_BYTES (a million attributes, a 16 MB attribute value) or elements
    nested deeper than MAX_DEPTH. ``ranges`` limits the check to parts of ``data`` read as one (the fast path
    has checked the points between them). Depth comes from the tags' first bytes (numpy, 1 MiB at a time): ``<x``
    opens, ``</`` closes, ``<?``/``<!`` and ``…/>`` neither; a comment or CDATA holding tags can only make it
    larger, never hide one."""
    raw = np.frombuffer(data, dtype=np.uint8)
    depth = 0
    for first, last in ranges or [(0, len(data))]:
        start = first
        while start < last:
            end = min(start + _SHAPE_CHUNK, last)
            if end < last:  # end the chunk after a '>' so that no tag straddles two chunks
                close = data.find(b">", end, last)
                if close >= 0 and data.count(b"<", end, close) > 1:
                    raise InvalidFileError(f"{filename}: the file is not valid XML (a '<' inside a tag)")
                end = last if close < 0 else close + 1
            chunk = raw[start:end]
            opens = np.flatnonzero(chunk == 60)          # '<'
            if len(opens):
                closes = np.flatnonzero(chunk == 62)     # '>'
                ends = np.searchsorted(closes, opens)
                paired = ends < len(closes)
                if paired.any() and (closes[ends[paired]] - opens[paired]).max() > MAX_TAG_BYTES:
                    raise InvalidFileError(f"{filename}: one tag is longer than {MAX_TAG_BYTES // 1024} KB "
                                           "(thousands of attributes or a giant value): this is not a GPX file "
                                           "VeloCoach reads")
                after = chunk[np.minimum(opens + 1, len(chunk) - 1)]
                self_closing = np.zeros(len(opens), dtype=bool)
                self_closing[paired] = chunk[closes[ends[paired]] - 1] == 47  # '/' before '>'
                step = np.where(after == 47, -1, np.where((after == 63) | (after == 33) | self_closing, 0, 1))
                levels = depth + np.cumsum(step)
                if levels.max() > MAX_DEPTH:
                    raise InvalidFileError(f"{filename}: its elements are nested more than {MAX_DEPTH} deep (GPX "
                                           "needs about eight): this is not a GPX file VeloCoach reads")
                depth = int(levels[-1])
            start = end


def _too_many_elements(filename: str) -> InvalidFileError:
    return InvalidFileError(f"{filename}: more than {MAX_OTHER_ELEMENTS:,} elements that are not track points "
                            "(a GPX file holds a few hundred): this is not a GPX file VeloCoach reads")


class _Joined(io.RawIOBase):
    """``data`` without the bytes [cut_from, cut_to), read as a file, without copying the document."""

    def __init__(self, data: bytes, cut_from: int, cut_to: int):
        self.view = memoryview(data)
        self.parts = [(0, cut_from), (cut_to, len(data))]

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while self.parts and self.parts[0][0] >= self.parts[0][1]:
            self.parts.pop(0)
        if not self.parts:
            return b""
        begin, end = self.parts[0]
        stop = end if size is None or size < 0 else min(end, begin + size)
        self.parts[0] = (stop, end)
        return bytes(self.view[begin:stop])


def parse_tree(data: bytes | io.RawIOBase, filename: str) -> tuple[_Buffers, _Buffers, dict]:
    """Stream the document element by element (C ElementTree iterparse); the prologue has been checked by
    defusedxml. Returns (track points, route points, meta). Raises ParseError.

    Only "end" events are asked for (half the events of start+end; measured 0.6 s vs 1.1 s CPU for 40k
    points). A finished point is copied into the buffers and cleared; a finished segment drops the empty
    shells of its points, so memory stays bounded by one segment's shells (~70 bytes a point).

    Tried and dropped (measured on the 250k-point bench ride, CPU time): a regex scan of the bytes after a
    C-only expat validation was no faster (5.2–6.0 s vs 4.4–5.8 s); expat's own cost is 0.7 s of that."""
    trk, rte = _Buffers(), _Buffers()
    meta = {"root": None, "trk_name": None, "rte_name": None, "meta_name": None, "type": None, "wpt": 0,
            "version": None}
    outer: dict[str, str | None] = {}   # full tag -> one of _OUTER's values or None (cache)
    fields: dict[str, str | None] = {}  # full tag -> "ele" | "time" | hr | cad | temp | power | None (cache)

    def outer_of(tag: str) -> str | None:
        outer[tag] = _OUTER.get(_local(tag))
        return outer[tag]

    def field_of(tag: str) -> str | None:
        name = _local(tag)
        fields[tag] = name if name in ("ele", "time") else _EXTENSION_FIELDS.get(name)
        return fields[tag]

    # Elements outside the points are kept by the tree until their container ends: ``pending`` counts those that
    # ended since the last point, a point subtracts its own descendants, and the rest (``others``) is bounded, so
    # millions of tiny foreign elements are refused after MAX_OTHER_ELEMENTS instead of filling memory.
    pending = others = 0
    elem = None
    for _event, elem in iterparse(io.BytesIO(data) if isinstance(data, bytes) else data):
        tag = elem.tag
        code = outer.get(tag, 0)
        if code == 0:
            code = outer_of(tag)
        if code is None:
            pending += 1
            if pending > MAX_OTHER_ELEMENTS:
                raise _too_many_elements(filename)
            continue
        if code == "trkpt" or code == "rtept":
            buf = trk if code == "trkpt" else rte
            if len(buf) >= MAX_POINTS:
                raise InvalidFileError(f"{filename}: more than {MAX_POINTS:,} points (weeks at one point a second); "
                                       "split the file")
            inside = len(elem)
            lat_s, lon_s = elem.get("lat"), elem.get("lon")
            if lat_s is None or lon_s is None:
                raise InvalidFileError(
                    f"{filename}: point {len(buf) + 1} has no {'lat' if lat_s is None else 'lon'} attribute")
            try:
                lat, lon = float(lat_s), float(lon_s)
            except ValueError:
                raise InvalidFileError(
                    f"{filename}: point {len(buf) + 1} has a position that is not a number "
                    f"(lat={lat_s[:20]!r}, lon={lon_s[:20]!r})") from None
            if not (-90.0 <= lat <= 90.0) or not (-180.0 <= lon <= 180.0):
                raise InvalidFileError(
                    f"{filename}: point {len(buf) + 1} has an impossible position (lat={lat_s[:20]}, "
                    f"lon={lon_s[:20]}); latitude must be within ±90 and longitude within ±180")
            values: dict[str, str | None] = {}
            for child in elem:
                field = fields.get(child.tag, 0)
                if field == 0:
                    field = field_of(child.tag)
                if field is not None:
                    values[field] = child.text
                elif len(child):  # <extensions>: look inside, any depth (TrackPointExtension v1/v2, …)
                    for sub in child.iter():
                        inside += 1
                        field = fields.get(sub.tag, 0)
                        if field == 0:
                            field = field_of(sub.tag)
                        if field is not None and field not in values:
                            values[field] = sub.text
            buf.lat.append(lat)
            buf.lon.append(lon)
            buf.ele.append(_to_float(values.get("ele")))
            buf.hr.append(_to_float(values.get("hr")))
            buf.cad.append(_to_float(values.get("cad")))
            buf.temp.append(_to_float(values.get("temp")))
            buf.power.append(_to_float(values.get("power")))
            when = values.get("time")
            when = when.strip() if when else None
            buf.times.append(when)
            if when:
                buf.any_time = True
            elem.clear()
            others += max(0, pending - inside)
            pending = 0
            if others > MAX_OTHER_ELEMENTS:
                raise _too_many_elements(filename)
        elif code == "trkseg":
            elem.clear()
        elif code == "wpt":
            meta["wpt"] += 1
            others += max(0, pending - sum(1 for _ in elem.iter()) + 1)
            pending = 0
            elem.clear()
        else:  # trk, rte, metadata: their own <name> and <type>
            for child in elem:
                name = _local(child.tag)
                text = child.text.strip() if child.text else ""
                if name == "name" and text:
                    key = {"trk": "trk_name", "rte": "rte_name", "metadata": "meta_name"}[code]
                    meta[key] = meta[key] or text
                elif name == "type" and text and code != "metadata":
                    meta["type"] = meta["type"] or text
            if code != "metadata":
                elem.clear()
    if elem is not None:  # the last element to end is the root
        meta["root"] = _local(elem.tag)
        meta["version"] = elem.get("version")
    return trk, rte, meta


