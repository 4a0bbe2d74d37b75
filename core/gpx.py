"""GPX reading: bytes in, ActivityStreams (numpy arrays) out — safe, streaming and lenient about real files.

Why not gpxpy for reading: gpxpy builds a Python object per point (measured in issue 3: 2.2 s and +257 MiB for
100k points; here bench/gpx_import.py measures gpxpy.parse of 250k points at 14 s CPU and +708 MiB). This module
streams the document with the C ElementTree ``iterparse`` ("end" events only), copies each point's numbers into
compact ``array('d')`` buffers and clears the element at once: 0.31x gpxpy's time, +100 MiB including the
file's own bytes. gpxpy is kept for writing GPX (``to_gpx``), where its object model is what we want.

Safety: the prologue (the only place a DTD, entity declaration or external reference can be) goes through
defusedxml with DTDs, entities and external references forbidden, before the C parser sees the document; so
no entity expansion (billion laughs) and no file or network access (XXE) can be triggered by a GPX file. Every
failure is an InvalidFileError that names the file and the reason.
"""

from __future__ import annotations

import io
import re
from array import array
from datetime import UTC, datetime
from xml.etree.ElementTree import ParseError, iterparse

import numpy as np
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from core.errors import ConfigError, InvalidFileError
from core.streams import ActivityStreams

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
DEFAULT_MAX_BYTES = 100 * 1024 * 1024

# Local element name -> the stream it feeds. Covers Garmin TrackPointExtension v1/v2 (hr, cad, atemp, wtemp),
# Strava's bare <power>, gpxpx:PowerExtension <PowerInWatts>, cluetrust gpxdata (hr, cadence, temp).
_EXTENSION_FIELDS = {
    "hr": "hr", "heartrate": "hr",
    "cad": "cad", "cadence": "cad",
    "atemp": "temp", "temp": "temp", "wtemp": "temp",
    "power": "power", "PowerInWatts": "power", "watts": "power",
}

# <type> values seen in real files -> our sport_type. Strava writes its numeric activity type ("1" = Ride).
_SPORT_TYPES = {"1": "cycling", "ride": "cycling", "biking": "cycling", "bike": "cycling", "road_biking": "cycling",
                "cycling": "cycling", "9": "running", "run": "running", "running": "running",
                "mountain biking": "mountain_biking", "mountain_biking": "mountain_biking",
                "walk": "walking", "hike": "hiking", "virtualride": "virtual_ride"}

# expat error codes -> a sentence a rider understands (xml.parsers.expat.errors).
_EXPAT_REASONS = {
    2: "the file is not valid XML (syntax error)",
    3: "the file is empty or ends before any GPX content (no element found)",
    4: "the file contains bytes that are not valid text in its declared encoding (not well-formed)",
    5: "the file ends in the middle of a tag: it looks truncated",
    6: "the file ends in the middle of a tag: it looks truncated",
    7: "a closing tag does not match the opening tag (mismatched tag)",
    9: "there is junk after the end of the GPX document",
    27: "an XML prefix is used without being declared",
}


def _reason_for_parse_error(exc: ParseError, total_lines: int | None) -> str:
    code = getattr(exc, "code", None)
    line = exc.position[0] if getattr(exc, "position", None) else None
    reason = _EXPAT_REASONS.get(code)
    if code == 3 and line and line > 1:
        reason = "the file ends before the GPX document is closed: it looks truncated"
    if reason is None:
        reason = f"the file is not valid XML ({str(exc).split(':')[0]})"
    return f"line {line}: {reason}" if line else reason


def _local(tag: str) -> str:
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag.rpartition(":")[2]


def _to_float(text: str | None) -> float:
    if text is None:
        return np.nan
    try:
        return float(text)
    except ValueError:
        return np.nan


_UNBOUND_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*):")


def _declare_missing_prefixes(data: bytes) -> bytes:
    """Some apps (gpx.studio) write ``<gpxpx:PowerInWatts>`` without declaring ``xmlns:gpxpx``. Declare every
    used-but-undeclared prefix on the root element so the file reads as the app meant it."""
    used = set(_UNBOUND_PREFIX.findall(data))
    declared = set(re.findall(rb"xmlns:([A-Za-z_][\w.-]*)\s*=", data))
    missing = sorted(used - declared - {b"xml"})
    match = re.search(rb"<gpx\b", data)
    if not missing or match is None:
        return data
    decl = b"".join(b' xmlns:%s="urn:velocoach:undeclared:%s"' % (p, p) for p in missing)
    return data[: match.end()] + decl + data[match.end():]


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
        self.times: list[str | None] = []
        self.any_time = False

    def __len__(self) -> int:
        return len(self.lat)


class _RootSeen(Exception):
    pass


class _StopAtRoot:
    """Parser target that stops at the root element's start tag: the prologue has been checked by then."""

    def start(self, tag, attrib):
        raise _RootSeen

    def end(self, tag):
        pass

    def data(self, text):
        pass

    def close(self):
        return None


def _check_prologue(data: bytes) -> None:
    """Run the document's prologue through defusedxml, which refuses any DTD, entity declaration or external
    reference. Only the prologue can declare those (a DOCTYPE after the root element is not XML), so once the
    root element starts the rest may go to the C-accelerated parser: defusedxml's own ElementTree parser is
    pure Python per element and 6x slower on a 250k-point ride (measured: 0.4 s vs 0.07 s for 8k points)."""
    parser = DefusedXMLParser(target=_StopAtRoot(), forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    try:
        for offset in range(0, len(data), 65536):
            parser.feed(data[offset:offset + 65536])
        parser.close()
    except _RootSeen:
        return


# Local element names that matter outside a point; everything else is skipped at the cost of a dict lookup.
_OUTER = {"trkpt": "trkpt", "rtept": "rtept", "wpt": "wpt", "trk": "trk", "rte": "rte", "metadata": "metadata",
          "trkseg": "trkseg"}


def _parse(data: bytes, filename: str) -> tuple[_Buffers, _Buffers, dict]:
    """Stream the document element by element (C ElementTree iterparse), after defusedxml has checked the
    prologue. Returns (track points, route points, meta). Raises ParseError/defusedxml errors.

    Only "end" events are asked for (half the events of start+end; measured 0.6 s vs 1.1 s CPU for 40k
    points). A finished point is copied into the buffers and cleared; a finished segment drops the empty
    shells of its points, so memory stays bounded by one segment's shells (~70 bytes a point).

    Tried and dropped (measured on the 250k-point bench ride, CPU time): a regex scan of the bytes after a
    C-only expat validation was no faster (5.2–6.0 s vs 4.4–5.8 s); expat's own cost is 0.7 s of that."""
    _check_prologue(data)
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

    elem = None
    for _event, elem in iterparse(io.BytesIO(data)):
        tag = elem.tag
        code = outer.get(tag, 0)
        if code == 0:
            code = outer_of(tag)
        if code is None:
            continue
        if code == "trkpt" or code == "rtept":
            buf = trk if code == "trkpt" else rte
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
        elif code == "trkseg":
            elem.clear()
        elif code == "wpt":
            meta["wpt"] += 1
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


def _utc_ns_fast(times: list[str | None]) -> np.ndarray | None:
    """The common case, every time written as UTC ``…Z``: numpy parses them (datetime64[ns]) without
    importing pandas (~0.4 s of the command line's start-up). None when any time is missing or in another
    form: the caller falls back to pandas."""
    try:
        if not all(t[-1:] == "Z" for t in times):
            return None
        return np.array([t[:-1] for t in times], dtype="datetime64[ns]")
    except (TypeError, ValueError):
        return None


def _parse_times(times: list[str | None], filename: str) -> tuple[np.ndarray | None, datetime | None, list[str]]:
    """ISO 8601 strings -> seconds since the first valid time; NaN where a time is missing or unreadable."""
    warnings: list[str] = []
    ns = _utc_ns_fast(times)
    if ns is None:  # offsets other than Z, missing or odd times: pandas' ISO 8601 parser, unreadable -> NaT
        import pandas as pd

        parsed = pd.to_datetime(pd.Series(times, dtype="object"), utc=True, errors="coerce", format="ISO8601")
        ns = parsed.to_numpy(dtype="datetime64[ns]", na_value=np.datetime64("NaT"))
    ns = ns.astype("int64")
    valid = ns != np.iinfo(np.int64).min  # NaT
    if not valid.any():
        return None, None, warnings
    if (~valid).any():
        warnings.append(f"{int((~valid).sum())} point(s) have no readable time")
    first = int(ns[valid][0])
    t_s = np.where(valid, (ns - first) / 1e9, np.nan)
    started_at = datetime.fromtimestamp(first / 1e9, tz=UTC)
    finite = t_s[np.isfinite(t_s)]
    if len(finite) > 1 and np.any(np.diff(finite) < 0):
        warnings.append("some track point times go backwards")
    if started_at.year < 1980:
        warnings.append(f"the recorded times start in {started_at.year}, which looks like a device clock error")
    return t_s, started_at, warnings


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def cumulative_distance_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    dist = np.zeros(len(lat))
    if len(lat) > 1:
        dist[1:] = np.cumsum(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]))
    return dist


def _max_bytes_default() -> int:
    try:
        from core.config import load_settings

        return load_settings().max_upload_bytes
    except ConfigError:
        return DEFAULT_MAX_BYTES


def read_gpx(data: bytes, filename: str, max_bytes: int | None = None) -> ActivityStreams:
    """Read a GPX 1.0/1.1 file into ActivityStreams (tracks first; else routes ``rte/rtept``).

    Sets ``t_s``/``started_at`` when the points carry times, hr/cadence/power/temp from extensions, ``dist_m``
    as cumulative haversine distance, ``name`` and ``sport_type`` (from ``<type>``). Raises InvalidFileError
    naming the file and the reason for anything it cannot use.
    """
    limit = _max_bytes_default() if max_bytes is None else max_bytes
    if len(data) > limit:
        raise InvalidFileError(
            f"{filename}: the file is {len(data) / 1048576:.1f} MB, over the {limit / 1048576:.0f} MB limit "
            "(VELOCOACH_MAX_UPLOAD_MB)")
    if not data.strip():
        raise InvalidFileError(f"{filename}: the file is empty")
    try:
        try:
            trk, rte, meta = _parse(data, filename)
        except ParseError as exc:
            if getattr(exc, "code", None) != 27:
                raise
            trk, rte, meta = _parse(_declare_missing_prefixes(data), filename)
    except (EntitiesForbidden, DTDForbidden, ExternalReferenceForbidden):
        head = data[:65536]
        if b"SYSTEM" in head or b"PUBLIC" in head:
            kind = "declares a document type that refers to an outside file or address"
        elif b"<!ENTITY" in head:
            kind = "declares XML entities (the shape of an entity-expansion attack)"
        else:
            kind = "declares a document type (DTD)"
        raise InvalidFileError(
            f"{filename}: the file {kind}, which GPX files never need; it was refused for safety and nothing "
            "in it was read") from None
    except DefusedXmlException:
        raise InvalidFileError(f"{filename}: the file uses XML features refused for safety") from None
    except ParseError as exc:
        raise InvalidFileError(f"{filename}: {_reason_for_parse_error(exc, None)}") from None
    root = meta["root"]
    if root != "gpx":
        if root == "kml":
            raise InvalidFileError(f"{filename}: this is a KML (Google Earth) file, not GPX; export it as GPX")
        if root in ("TrainingCenterDatabase",):
            raise InvalidFileError(f"{filename}: this is a TCX file, not GPX")
        raise InvalidFileError(f"{filename}: this XML file is not GPX (its root element is <{root}>)")
    # Tracks first (recordings, most route exports); a file whose track is a stub but whose route is not
    # (gpxpy's all-fields sample) draws the route.
    buf = trk if len(trk) >= 2 or len(rte) < 2 else rte
    if len(buf) == 0:
        buf = trk if len(trk) else rte
    if len(buf) == 0:
        if meta["wpt"]:
            raise InvalidFileError(
                f"{filename}: the file holds only {meta['wpt']} waypoint(s) and no track or route: nothing "
                "to draw")
        raise InvalidFileError(f"{filename}: the file contains no track or route points")
    lat = np.frombuffer(buf.lat, dtype=np.float64).copy()
    lon = np.frombuffer(buf.lon, dtype=np.float64).copy()
    if len(lat) < 2 or (np.ptp(lat) == 0 and np.ptp(lon) == 0):
        raise InvalidFileError(
            f"{filename}: the track needs at least two distinct points (it has {len(lat)} point(s)"
            f"{' all at the same place' if len(lat) > 1 else ''})")
    ele = np.frombuffer(buf.ele, dtype=np.float64).copy()
    warnings: list[str] = []
    t_s = started_at = None
    if buf.any_time:
        t_s, started_at, warnings = _parse_times(buf.times, filename)
    if np.isfinite(ele).sum() < 2:
        warnings.append("the file has no elevation: sections are by distance only")

    def optional(values: array) -> np.ndarray | None:
        arr = np.frombuffer(values, dtype=np.float64).copy()
        return arr if np.isfinite(arr).any() else None

    name = meta["trk_name"] if buf is trk else meta["rte_name"]
    name = name or meta["meta_name"] or filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    sport = (meta["type"] or "cycling").strip().lower()
    sport = _SPORT_TYPES.get(sport, sport)
    return ActivityStreams(
        lat=lat, lon=lon, ele=ele, dist_m=cumulative_distance_m(lat, lon), t_s=t_s,
        hr=optional(buf.hr), cadence=optional(buf.cad), power=optional(buf.power), temp=optional(buf.temp),
        started_at=started_at, name=name[:200], sport_type=sport[:40], source_format="gpx", warnings=warnings)


def to_gpx(streams: ActivityStreams, name: str | None = None) -> str:
    """Write streams as GPX 1.1 (a track; times when present). gpxpy is used here: writing is where its object
    model serves, and the files written are the size of one route."""
    import gpxpy.gpx
    import pandas as pd

    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack(name=name or streams.name or None)
    segment = gpxpy.gpx.GPXTrackSegment()
    track.segments.append(segment)
    gpx.tracks.append(track)
    for i in range(len(streams)):
        when = None
        if streams.t_s is not None and streams.started_at is not None and np.isfinite(streams.t_s[i]):
            when = streams.started_at + pd.Timedelta(seconds=float(streams.t_s[i])).to_pytimedelta()
        ele = float(streams.ele[i]) if np.isfinite(streams.ele[i]) else None
        segment.points.append(gpxpy.gpx.GPXTrackPoint(
            float(streams.lat[i]), float(streams.lon[i]), elevation=ele, time=when))
    return gpx.to_xml()
