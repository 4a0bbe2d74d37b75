"""GPX reading: bytes in, ActivityStreams (numpy arrays) out — safe, streaming and lenient about real files.

Why not gpxpy for reading: gpxpy builds a Python object per point (measured in issue 3: 2.2 s and +257 MiB for
100k points; here bench/gpx_import.py measures gpxpy.parse of 250k points at 14 s CPU and +708 MiB). Two readers:

* ``_parse_fast`` — a track whose points all have the same elements (what devices and apps write): one regular
  expression built from the first point reads every point's numbers in C, block by block; the bytes between
  the first and the last point are checked to be nothing but such points (tags counted, no entity, no CDATA,
  characters checked, expat where they are not plain ASCII); the rest of the file goes through
  ``_parse_tree`` with the points cut out. 1.3–1.4 s CPU for the 250k-point bench ride (0.13x gpxpy),
  +35 MiB above the file's bytes.
* ``parse_tree`` (core/files/gpx_tree.py, with ``check_shape``, the bounds on a document's shape) — everything else: the C ElementTree ``iterparse`` ("end" events only), each point's numbers
  copied into compact ``array('d')`` buffers and the element cleared at once: 4.4 s CPU (0.31x gpxpy), +100
  MiB including the file's own bytes. Whenever the fast path meets anything unusual it hands the whole file
  to this reader, so results and error messages are the same (tests/test_gpx_fast_path.py compares both).

gpxpy is kept for writing GPX (``to_gpx``), where its object model is what we want.

Safety: the prologue (the only place a DTD, entity declaration or external reference can be) goes through
defusedxml with DTDs, entities and external references forbidden, before the C parser sees the document; so
no entity expansion (billion laughs) and no file or network access (XXE) can be triggered by a GPX file. Every
failure is an InvalidFileError that names the file and the reason.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from array import array
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import ParseError

import numpy as np
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from core.errors import ConfigError, InvalidFileError
from core.files.elevation import hint_from_creator
from core.files.gpx_tree import _EXTENSION_FIELDS, _Buffers, _Joined, _local, check_shape, parse_tree
from core.files.streams import ActivityStreams

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
DEFAULT_MAX_BYTES = 100 * 1024 * 1024

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


_UNBOUND_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*):")


def _declare_missing_prefixes(data: bytes) -> bytes:
    """Some apps (gpx.studio) write ``<gpxpx:PowerInWatts>`` without declaring ``xmlns:gpxpx``. Declare every
    used-but-undeclared prefix on the root element so the file reads as the app meant it."""
    used = {m.group(1) for m in _UNBOUND_PREFIX.finditer(data)}  # a set as it goes: no list of every tag
    declared = set(re.findall(rb"xmlns:([A-Za-z_][\w.-]*)\s*=", data))
    missing = sorted(used - declared - {b"xml"})
    match = re.search(rb"<gpx\b", data)
    if not missing or match is None:
        return data
    decl = b"".join(b' xmlns:%s="urn:velocoach:undeclared:%s"' % (p, p) for p in missing)
    return data[: match.end()] + decl + data[match.end():]


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


def _parse(data: bytes, filename: str) -> tuple[_Buffers, _Buffers, dict]:
    """Check the prologue, then read the points: the fast path when the file's track is
    uniform (``_parse_fast``), else the general streaming parse (``_parse_tree``). Returns (track points,
    route points, meta). Raises ParseError/defusedxml errors."""
    _check_prologue(data)
    fast = _parse_fast(data, filename)  # checks the shape of what it does not read itself
    if fast is not None:
        return fast
    check_shape(data, filename)
    return parse_tree(data, filename)


_TOKEN = re.compile(rb"<(/?)([A-Za-z_][\w.:-]*)((?:\s[^<>]*)?)>|([^<]*)")
_ATTR = re.compile(rb'\s([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"<&]*)"|\'([^\'<&]*)\')')
_DECLARED_ENCODING = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)")
_FAST_BLOCK_BYTES = 4 << 20
_PLAIN_BYTES = b"\t\n\r" + bytes(range(32, 127))
_MAX_TEMPLATE_BYTES = 8192   # a device's point is a few hundred bytes
_MAX_TEMPLATE_TAGS = 128


def _point_template(point: bytes) -> tuple[re.Pattern, dict[str, int], int, int, int] | None:
    """From the bytes of a file's first ``<trkpt>…</trkpt>``, a pattern matching every point written with the
    same elements in the same order (any values, any text between tags), the group of each stream
    (chosen as ``_parse_tree`` chooses: a direct child wins, else the first one inside <extensions>), the
    groups of lat and lon, and the number of tags a point has. None for anything less plain (self-closing
    or repeated-field elements, mixed content, comments …, or a point far larger than any device writes)."""
    if len(point) > _MAX_TEMPLATE_BYTES or point.count(b"<") > _MAX_TEMPLATE_TAGS:
        return None
    parts: list[bytes] = []
    group = 0
    lat_group = lon_group = None
    stack: list[bytes] = []               # open elements' names
    direct: dict[str, int] = {}           # field -> group, direct children of the point
    nested: dict[str, int] = {}           # field -> group, first inside a direct child's subtree
    tags = 0
    pos = 0
    while pos < len(point):
        m = _TOKEN.match(point, pos)
        if m is None or m.end() == pos:
            return None
        pos = m.end()
        if m.group(4) is not None:        # text outside the fields (whitespace, <sat>7</sat>…): not read
            parts.append(rb"[^<]*")
            continue
        tags += 1
        closing, name, attrs = m.group(1), m.group(2), m.group(3)
        if attrs.rstrip().endswith(b"/"):
            return None
        if name.count(b":") > 1:
            return None
        local = _local(name.decode("ascii"))
        if closing:
            if not stack or stack[-1] != name:
                return None
            stack.pop()
            parts.append(re.escape(m.group(0)))
            continue
        if not stack:                      # the <trkpt> itself: lat/lon groups, other attributes any value
            if local != "trkpt":
                return None
            parts.append(rb"<" + re.escape(name))
            names = [attr.group(1) for attr in _ATTR.finditer(attrs)]
            if len(set(names)) != len(names):
                return None
            for attr in _ATTR.finditer(attrs):
                group += 1
                if attr.group(1) == b"lat":
                    lat_group = group
                elif attr.group(1) == b"lon":
                    lon_group = group
                quote = b'"' if attr.group(2) is not None else b"'"
                parts.append(rb"\s+" + re.escape(attr.group(1)) + rb"\s*=\s*" + quote + b"([^" + quote + b"<&]*)"
                             + quote)
            if _ATTR.sub(b"", attrs).strip():
                return None
            parts.append(rb"\s*>")
            stack.append(name)
            continue
        if attrs.strip():
            return None
        field = local if local in ("ele", "time") else _EXTENSION_FIELDS.get(local)
        if field is not None:              # a leaf: <ele>text</ele>, its text one group
            leaf = re.compile(rb"[^<]*</" + re.escape(name) + rb">").match(point, pos)
            if leaf is None:
                return None
            if len(stack) == 1 and field in direct:
                return None                # a field twice as a direct child: leave it to the general parse
            group += 1
            if len(stack) == 1:
                direct[field] = group
            elif field not in nested:
                nested[field] = group
            parts.append(re.escape(m.group(0)) + b"([^<]*)" + re.escape(b"</" + name + b">"))
            tags += 1
            pos = leaf.end()
            continue
        else:
            stack.append(name)
        parts.append(re.escape(m.group(0)))
    if stack or lat_group is None or lon_group is None:
        return None
    fields = {**nested, **direct}
    return re.compile(b"".join(parts)), fields, lat_group, lon_group, tags


def _block_times(texts: tuple[bytes, ...]) -> np.ndarray | list[str | None]:
    """A block's times: datetime64[us] when every one is written ``…Z`` (numpy parses the bytes: no string
    per point is kept, 34 MB less for the bench ride), else the texts as _parse_tree keeps them."""
    if all(t[-1:] == b"Z" for t in texts):
        try:
            return np.array([t[:-1] for t in texts]).astype("datetime64[us]")
        except ValueError:
            pass
    return _time_texts(texts)


def _time_texts(texts: tuple[bytes, ...]) -> list[str | None]:
    """Time texts as _parse_tree keeps them: stripped, None when empty. One decode and split in C when no
    text has whitespace or is empty (the rule), else one by one."""
    joined = b"\n".join(texts)
    if texts and all(texts) and not any(c in joined for c in (b" ", b"\t", b"\r", b"\n\n")) \
            and joined.count(b"\n") == len(texts) - 1:
        return joined.decode("ascii").split("\n")
    return [t.decode("ascii").strip() or None for t in texts]


def _parse_fast(data: bytes, filename: str) -> tuple[_Buffers, _Buffers, dict] | None:
    """The common big file — one track segment whose points all have the same elements (every device and
    app export we have seen) — read in C: one compiled pattern (built from the first point) finds every
    point's numbers (``re.findall`` on 4 MiB blocks), numpy converts them, and the points' bytes are checked
    to be well-formed XML (expat checks them when they hold more than printable ASCII). The rest of the
    document (names, type, waypoints, routes) goes through ``_parse_tree`` with the points cut out, so
    everything but the points is read exactly as before.

    Returns None — and the general parse reads the whole file — whenever anything is less plain: several
    segments, points that differ in their elements, an empty or non-numeric value, an entity or character
    reference, CDATA, comments or processing instructions among the points, an encoding other than UTF-8/
    ASCII, an impossible position (so that the error names the point as before). Measured on the 250k-point
    bench ride: 1.4 s CPU vs 4.4 s for ``_parse_tree``, the same arrays (tests/test_gpx_fast_path.py
    compares both paths on every real and test file and on broken variants)."""
    declared = _DECLARED_ENCODING.match(data[:200])
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        return None
    start = data.find(b"<trkpt")
    if start < 0 or data.find(b"<trkpt", start + 6) < 0:
        return None
    first_end = data.find(b"</trkpt>", start)
    if first_end < 0:
        return None
    template = _point_template(data[start:first_end + 8])
    if template is None:
        return None
    pattern, fields, lat_group, lon_group, tags = template
    end = data.rfind(b"</trkpt>") + 8
    # Nothing but points (and whitespace) from the first to the last point: counted by '<', so no other
    # element, comment, CDATA or second segment hides between them.
    if data.count(b"&", start, end) or data.count(b"]]>", start, end):
        return None
    buffers = _Buffers()
    columns: dict[str, list[np.ndarray]] = {name: [] for name in ("lat", "lon", *fields)}
    times: list[np.ndarray | list[str | None]] = []  # per block
    count = 0
    block_start = start
    while block_start < end:
        block_end = data.find(b"</trkpt>", min(block_start + _FAST_BLOCK_BYTES, end - 8)) + 8
        rows = pattern.findall(data, block_start, block_end)
        if not rows:
            return None
        count += len(rows)
        cols = list(zip(*rows, strict=True)) if isinstance(rows[0], tuple) else [rows]
        try:  # float() of the bytes: the same numbers (and refusals) as float() of the text in _parse_tree
            columns["lat"].append(np.fromiter(map(float, cols[lat_group - 1]), np.float64, len(rows)))
            columns["lon"].append(np.fromiter(map(float, cols[lon_group - 1]), np.float64, len(rows)))
            for field, index in fields.items():
                if field == "time":
                    times.append(_block_times(cols[index - 1]))
                else:
                    columns[field].append(np.fromiter(map(float, cols[index - 1]), np.float64, len(rows)))
        except (ValueError, UnicodeDecodeError):
            return None
        block_start = block_end
    if count * tags != data.count(b"<", start, end) or count != data.count(b"<trkpt", start, end):
        return None
    lat, lon = np.concatenate(columns["lat"]), np.concatenate(columns["lon"])
    if not (np.all((lat >= -90.0) & (lat <= 90.0)) and np.all((lon >= -180.0) & (lon <= 180.0))):
        return None
    # Well-formed? Every '<' is a tag of a matched point (counted above) and there is no '&' or ']]>'; so
    # only the characters can still be wrong. Printable ASCII, tab, CR, LF are always right (checked with
    # bytes.translate, 0.1 s); anything else is checked by expat (0.6 s for the whole bench ride).
    plain = all(not data[offset:min(offset + _FAST_BLOCK_BYTES, end)].translate(None, _PLAIN_BYTES)
                for offset in range(start, end, _FAST_BLOCK_BYTES))
    if not plain:
        checker = xml.parsers.expat.ParserCreate("utf-8")
        try:
            checker.Parse(b"<p>", False)
            for offset in range(start, end, _FAST_BLOCK_BYTES):
                checker.Parse(data[offset:min(offset + _FAST_BLOCK_BYTES, end)], False)
            checker.Parse(b"</p>", True)
        except xml.parsers.expat.ExpatError:
            return None
    check_shape(data, filename, [(0, start), (end, len(data))])
    try:
        trk, rte, meta = parse_tree(_Joined(data, start, end), filename)
    except Exception:  # noqa: BLE001 — the general parse of the whole file raises the right error
        return None
    if len(trk):
        return None
    buffers.lat = lat
    buffers.lon = lon
    for name in ("ele", "hr", "cad", "temp", "power"):
        setattr(buffers, name, np.concatenate(columns[name]) if name in fields else np.full(count, np.nan))
    if "time" not in fields:
        buffers.times = [None] * count
    elif all(isinstance(block, np.ndarray) for block in times):  # every time a UTC "…Z": parsed already
        buffers.times = np.concatenate(times)
    else:
        buffers.times = [text for block in times for text in (
            [f"{t}Z" for t in np.datetime_as_string(block, unit="us")] if isinstance(block, np.ndarray) else block)]
    buffers.any_time = count > 0 if isinstance(buffers.times, np.ndarray) else any(buffers.times)
    return buffers, rte, meta


def _utc_ns_fast(times: list[str | None]) -> np.ndarray | None:
    """The common case, every time written as UTC ``…Z``: numpy parses them (datetime64[us]) without
    importing pandas (~0.4 s of the command line's start-up). None when any time is missing or in another
    form: the caller falls back to pandas."""
    try:
        if not all(t[-1:] == "Z" for t in times):
            return None
        return np.array([t[:-1] for t in times], dtype="datetime64[us]")
    except (TypeError, ValueError):
        return None


def _parse_times(times: list[str | None] | np.ndarray, filename: str) -> tuple[np.ndarray | None, datetime | None, list[str]]:
    """ISO 8601 strings -> seconds since the first valid time; NaN where a time is missing or unreadable.

    Times are parsed to microseconds (datetime64[us], years ±290,000): nanoseconds overflow after 2262, and a
    year-9999 time silently became 1815. Whether a time is plausible is core.files.plausibility's business."""
    warnings: list[str] = []
    ns = times if isinstance(times, np.ndarray) else _utc_ns_fast(times)  # an array: parsed by _parse_fast
    if ns is None:  # offsets other than Z, missing or odd times: pandas' ISO 8601 parser, unreadable -> NaT
        import pandas as pd

        parsed = pd.to_datetime(pd.Series(times, dtype="object"), utc=True, errors="coerce", format="ISO8601")
        ns = parsed.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT"))
    ns = ns.astype("int64")
    valid = ns != np.iinfo(np.int64).min  # NaT
    if not valid.any():
        return None, None, warnings
    if (~valid).any():
        warnings.append(f"{int((~valid).sum())} point(s) have no readable time")
    first = int(ns[valid][0])
    t_s = np.where(valid, (ns - first) / 1e6, np.nan)
    started_at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=first)
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


def _as_utf8(data: bytes, filename: str) -> bytes:
    """The document in UTF-8 with its declaration saying so (for a multi-byte encoding that expat cannot read)."""
    declared = _DECLARED_ENCODING.match(data[:200])
    encoding = declared.group(1).decode("ascii")
    try:
        body = data[declared.end():].decode(encoding).encode("utf-8")
    except UnicodeDecodeError:
        raise InvalidFileError(f"{filename}: the file is not valid {encoding} text, as it declares") from None
    return data[:declared.start(1)] + b"UTF-8" + body


def _max_bytes_default() -> int:
    try:
        from core.config import load_settings

        return load_settings().max_upload_bytes
    except ConfigError:
        return DEFAULT_MAX_BYTES


def _float_array(values: array | np.ndarray) -> np.ndarray:
    """A buffer's values as a float64 array, sharing the buffer's memory (no copy: the buffer is never appended
    to again, and a copy would double the points' memory at the end of the read)."""
    if isinstance(values, np.ndarray):
        return values
    return np.frombuffer(values, dtype=np.float64)


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
    if not data or data.isspace():  # (not data.strip(): that copies the whole file)
        raise InvalidFileError(f"{filename}: the file is empty")
    try:
        try:
            trk, rte, meta = _parse(data, filename)
        except ParseError as exc:
            if getattr(exc, "code", None) != 27:
                raise
            trk, rte, meta = _parse(_declare_missing_prefixes(data), filename)
        except ValueError as exc:  # expat reads single-byte encodings only (Shift_JIS, EUC-JP, GB2312, Big5 …)
            if "multi-byte" not in str(exc):
                raise
            trk, rte, meta = _parse(_as_utf8(data, filename), filename)
    except LookupError:
        declared = _DECLARED_ENCODING.match(data[:200])
        name = declared.group(1).decode("ascii") if declared else "?"
        raise InvalidFileError(f"{filename}: the file declares the text encoding {name!r}, which VeloCoach does not "
                               "know; save it as UTF-8") from None
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
    lat, lon = _float_array(buf.lat), _float_array(buf.lon)
    if len(lat) < 2 or (np.ptp(lat) == 0 and np.ptp(lon) == 0):
        raise InvalidFileError(
            f"{filename}: the track needs at least two distinct points (it has {len(lat)} point(s)"
            f"{' all at the same place' if len(lat) > 1 else ''})")
    ele = _float_array(buf.ele)
    warnings: list[str] = []
    t_s = started_at = None
    if buf.any_time:
        t_s, started_at, warnings = _parse_times(buf.times, filename)
    if np.isfinite(ele).sum() < 2:
        warnings.append("the file has no elevation: sections are by distance only")

    def optional(values: array | np.ndarray) -> np.ndarray | None:
        arr = _float_array(values)
        return arr if np.isfinite(arr).any() else None

    name = meta["trk_name"] if buf is trk else meta["rte_name"]
    name = name or meta["meta_name"] or filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    sport = (meta["type"] or "cycling").strip().lower()
    sport = _SPORT_TYPES.get(sport, sport)
    return ActivityStreams(
        lat=lat, lon=lon, ele=ele, dist_m=cumulative_distance_m(lat, lon), t_s=t_s,
        hr=optional(buf.hr), cadence=optional(buf.cad), power=optional(buf.power), temp=optional(buf.temp),
        started_at=started_at, name=name[:200], sport_type=sport[:40], source_format="gpx", warnings=warnings,
        altitude_source=hint_from_creator(gpx_creator(data), t_s is not None))


_CREATOR = re.compile(rb"<(?:\w+:)?gpx\b[^>]*?\bcreator\s*=\s*[\"']([^\"'<>]{0,200})[\"']", re.S)


def gpx_creator(data: bytes) -> str | None:
    """The <gpx creator="…"> attribute (the app or device that wrote the file), read from the first 4 KB."""
    match = _CREATOR.search(data[:4096])
    return match.group(1).decode("utf-8", "replace") if match else None


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
