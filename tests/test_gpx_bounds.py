"""Bounded work: pathological shapes injected into a real GPX file are read or refused quickly, in memory of the
order of the file. Issue 16 measured a 16.8 MB GPX with a million attributes on one point at 90 s and 4.4 GB; the
inputs are generated here (megabytes are not committed). Speed and memory are measured in
bench/gpx_pathological.py; these tests check the outcome (refused with a sentence, or read correctly)."""

from __future__ import annotations

import re

import pytest

from core.errors import InvalidFileError
from core.files import gpx_tree
from core.files.gpx import read_gpx
from tests.conftest import DATA_DIR

REAL = "georust__garmin_with_extensions.gpx"  # a GPSMAP 64s recording: 2 segments, extensions, 3,540 points
BIG = 1 << 30


@pytest.fixture(scope="module")
def real() -> bytes:
    return (DATA_DIR / REAL).read_bytes()


def test_a_million_attributes_on_one_point_is_refused_without_building_anything(real):
    attributes = b"".join(b' attr%07d="1"' % i for i in range(1_000_000))  # 16 MB, the attribute bomb
    at = real.index(b"<trkpt") + len(b"<trkpt")
    bomb = real[:at] + attributes + real[at:]
    with pytest.raises(InvalidFileError, match=r"one tag is longer than 64 KB"):
        read_gpx(bomb, "bomb.gpx", max_bytes=BIG)


def test_an_attribute_bomb_on_a_later_point_is_refused_too(real):
    attributes = b"".join(b' a%d="1"' % i for i in range(200_000))
    second = real.index(b"<trkpt", real.index(b"<trkpt") + 1) + len(b"<trkpt")
    with pytest.raises(InvalidFileError, match=r"one tag is longer"):
        read_gpx(real[:second] + attributes + real[second:], "bomb.gpx", max_bytes=BIG)


def test_a_giant_attribute_value_is_refused(real):
    at = real.index(b'lat="') + len(b'lat="')
    with pytest.raises(InvalidFileError, match=r"one tag is longer"):
        read_gpx(real[:at] + b"4" * 5_000_000 + real[at:], "value.gpx", max_bytes=BIG)


def test_elements_nested_a_million_deep_are_refused(real):
    at = real.index(b"</trkseg>")
    nest = b"<extensions>" + b"<a>" * 1_000_000 + b"</a>" * 1_000_000 + b"</extensions>"
    with pytest.raises(InvalidFileError, match=r"nested more than 256 deep"):
        read_gpx(real[:at] + nest + real[at:], "deep.gpx", max_bytes=BIG)


def test_deep_nesting_before_the_points_is_refused_when_the_track_itself_is_plain(data_dir):
    plain = (data_dir / "rides" / "sweatpy__4078723797_strava.gpx").read_bytes()  # read by the fast path
    at = plain.index(b"<trk>")
    nest = b"<metadata>" + b"<x>" * 300_000 + b"</x>" * 300_000 + b"</metadata>"
    with pytest.raises(InvalidFileError, match=r"nested more than"):
        read_gpx(plain[:at] + nest + plain[at:], "deep.gpx", max_bytes=BIG)


def test_millions_of_tiny_foreign_elements_are_refused(real):
    at = real.index(b"</trkseg>")
    with pytest.raises(InvalidFileError, match=r"more than 200,000 elements that are not track points"):
        read_gpx(real[:at] + b"<b/>" * 3_000_000 + real[at:], "tiny.gpx", max_bytes=BIG)


def test_tiny_foreign_elements_between_the_points_are_counted_too(real):
    points = real.count(b"<trkpt")
    spread = re.sub(rb"</trkpt>", b"</trkpt>" + b"<b/>" * (250_000 // points + 1), real)
    with pytest.raises(InvalidFileError, match=r"elements that are not track points"):
        read_gpx(spread, "spread.gpx", max_bytes=BIG)


def test_many_foreign_elements_inside_points_are_the_points_own_and_are_read(real):
    # A point's own extensions may be large (BaseCamp writes hundreds of shaping points per route point).
    extra = b"<extensions>" + b"<x:rpt/>" * 100 + b"</extensions>"
    padded = real.replace(b"</trkpt>", extra + b"</trkpt>")
    streams = read_gpx(padded.replace(b"<gpx ", b'<gpx xmlns:x="urn:x" ', 1), "padded.gpx", max_bytes=BIG)
    assert len(streams) == real.count(b"<trkpt")


def test_a_huge_single_text_node_is_read_and_the_name_kept_short(real):
    at = real.index(b"<trk>") + len(b"<trk>")
    huge = real[:at] + b"<name>" + b"x" * 16_000_000 + b"</name>" + real[at:]
    streams = read_gpx(huge, "text.gpx", max_bytes=BIG)
    assert len(streams) == real.count(b"<trkpt") and streams.name == "x" * 200


def test_a_plain_track_of_a_million_tiny_points_is_read():
    head = b'<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
    points = b"".join(b'<trkpt lat="45.%06d" lon="6.%06d"></trkpt>' % (i % 999_999, i % 999_999)
                      for i in range(1_000_000))
    streams = read_gpx(head + points + b"</trkseg></trk></gpx>", "tiny-points.gpx", max_bytes=BIG)
    assert len(streams) == 1_000_000


def test_more_points_than_the_bound_are_refused_with_a_sentence(monkeypatch, real):
    monkeypatch.setattr(gpx_tree, "MAX_POINTS", 1000)
    multi = real.replace(b"</trkseg>", b"</trkseg><trkseg><trkpt lat=\"1\" lon=\"1\"/></trkseg>", 1)  # not fast-path
    with pytest.raises(InvalidFileError, match=r"more than 1,000 points"):
        read_gpx(multi, "long.gpx", max_bytes=BIG)


def test_every_real_file_still_passes_the_shape_check(data_dir):
    for path in sorted(data_dir.rglob("*.gpx")):
        data = path.read_bytes()
        try:
            gpx_tree.check_shape(data, path.name)
        except InvalidFileError as exc:  # only files that are not XML at all may fail it
            assert path.name in {"non_xml_bytes.gpx"}, exc
