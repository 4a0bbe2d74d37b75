"""core.files.gpx's fast path for uniform tracks must read exactly what the general streaming parse reads, and hand
anything less plain (or broken) to it, so that errors stay the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import core.files.gpx as gpx
from core.errors import InvalidFileError

DATA = Path(__file__).resolve().parent / "data"
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "gpx"
if not REALDATA.is_dir():
    REALDATA = Path("/work/shared/realdata/gpx")
STREAMS = ("lat", "lon", "ele", "dist_m", "t_s", "hr", "cadence", "power", "temp")

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n'
        '<metadata><name>Meta name</name><author><name>Not this</name></author></metadata>\n'
        '<trk><name>Morning ride</name><type>cycling</type><trkseg>\n')
TAIL = "</trkseg></trk>\n</gpx>\n"


def point(i: int, *, ele: str | None = None, hr: str | None = None, extra: str = "") -> str:
    ele = f"{100 + i * 0.5:.1f}" if ele is None else ele
    hr = str(120 + i % 30) if hr is None else hr
    return (f'<trkpt lat="{45 + i * 1e-4:.7f}" lon="{6 + i * 1e-4:.7f}"><ele>{ele}</ele>'
            f'<time>2024-05-01T06:{i // 60:02d}:{i % 60:02d}Z</time>{extra}<extensions><power>{200 + i % 50}</power>'
            f'<gpxtpx:TrackPointExtension><gpxtpx:hr>{hr}</gpxtpx:hr><gpxtpx:cad>{80 + i % 10}</gpxtpx:cad>'
            '</gpxtpx:TrackPointExtension></extensions></trkpt>\n')


def document(points: list[str]) -> bytes:
    return (HEAD + "".join(points) + TAIL).encode("utf-8")


def general(data: bytes, name: str = "t.gpx"):
    """read_gpx with the fast path switched off."""
    original = gpx._parse_fast
    gpx._parse_fast = lambda data, filename: None
    try:
        return gpx.read_gpx(data, name, max_bytes=10**9)
    finally:
        gpx._parse_fast = original


def outcome(read, data: bytes):
    try:
        return read(data)
    except InvalidFileError as exc:
        return f"error: {exc}"


def assert_same(data: bytes) -> None:
    fast = outcome(lambda d: gpx.read_gpx(d, "t.gpx", max_bytes=10**9), data)
    slow = outcome(general, data)
    if isinstance(fast, str) or isinstance(slow, str):
        assert fast == slow
        return
    for name in STREAMS:
        a, b = getattr(fast, name), getattr(slow, name)
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert (fast.started_at, fast.name, fast.sport_type, fast.warnings) == \
        (slow.started_at, slow.name, slow.sport_type, slow.warnings)


def test_a_uniform_track_takes_the_fast_path_and_reads_what_the_general_parse_reads():
    data = document([point(i) for i in range(300)])
    assert gpx._parse_fast(data, "t.gpx") is not None
    assert_same(data)
    streams = gpx.read_gpx(data, "t.gpx")
    assert streams.name == "Morning ride" and len(streams) == 300
    assert streams.hr[0] == 120 and streams.power[1] == 201 and streams.cadence[2] == 82
    assert streams.t_s[-1] == 299


@pytest.mark.parametrize("change", [
    "one_point_without_hr", "an_empty_elevation", "a_non_numeric_elevation", "an_entity_in_a_point",
    "a_comment_between_points", "a_second_segment", "a_non_ascii_character_in_a_point",
    "an_invalid_utf8_byte_in_a_point", "a_control_character_in_a_point", "a_mismatched_tag_in_the_first_point",
    "an_impossible_latitude", "a_truncated_file", "a_point_with_other_elements", "a_duplicate_attribute",
    "times_with_an_offset", "a_time_with_whitespace", "an_unreadable_time",
])
def test_anything_less_plain_reads_or_fails_exactly_as_the_general_parse(change):
    points = [point(i) for i in range(50)]
    if change == "one_point_without_hr":
        points[20] = points[20].replace("<gpxtpx:hr>140</gpxtpx:hr>", "")
    elif change == "an_empty_elevation":
        points[7] = point(7, ele="")
    elif change == "a_non_numeric_elevation":
        points[7] = point(7, ele="n/a")
    elif change == "an_entity_in_a_point":
        points[7] = point(7, ele="1&#48;0")
    elif change == "a_comment_between_points":
        points.insert(10, "<!-- pause -->")
    elif change == "a_second_segment":
        points.insert(10, "</trkseg><trkseg>")
    elif change == "a_non_ascii_character_in_a_point":
        points = [point(i, extra="<desc>côte</desc>") for i in range(50)]  # uniform: the characters decide
    elif change == "an_invalid_utf8_byte_in_a_point":
        points = [point(i, extra="<desc>\udcff</desc>") for i in range(50)]  # uniform: the characters decide
    elif change == "a_control_character_in_a_point":
        points = [point(i, extra="<desc>\x01</desc>") for i in range(50)]  # uniform: the characters decide
    elif change == "a_mismatched_tag_in_the_first_point":
        points[0] = points[0].replace("</ele>", "</elx>")
    elif change == "an_impossible_latitude":
        points[7] = points[7].replace('lat="45.0007000"', 'lat="95.0007000"')
    elif change == "a_truncated_file":
        points[-1] = points[-1][:30]
    elif change == "a_point_with_other_elements":
        points = [point(i, extra="<sat>7</sat>") for i in range(50)]
    elif change == "a_duplicate_attribute":
        points = [p.replace("<trkpt ", '<trkpt lat="1" ') for p in points]
    elif change == "times_with_an_offset":
        points = [p.replace("Z</time>", "+02:00</time>") for p in points]
    elif change == "a_time_with_whitespace":
        points[7] = points[7].replace("<time>", "<time>\n  ")
    elif change == "an_unreadable_time":
        points[7] = points[7].replace("<time>2024", "<time>20x4")
    data = (HEAD + "".join(points) + TAIL).encode("utf-8", errors="surrogateescape")
    assert_same(data)


def _files():
    found = sorted(DATA.rglob("*.gpx"))
    if REALDATA.is_dir():
        found += sorted(REALDATA.rglob("*.gpx"))
    return found


@pytest.mark.parametrize("path", _files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_real_and_test_file_reads_the_same_through_both_paths(path):
    assert_same(path.read_bytes())
