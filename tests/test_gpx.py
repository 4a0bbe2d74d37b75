"""core.files.gpx: real files from many devices, the GPX dialects, and hostile or broken input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import InvalidFileError
from core.files.gpx import _declare_missing_prefixes, cumulative_distance_m, read_gpx, to_gpx
from core.routes.store import import_gpx_route
from core.store.db import table_counts

DATA = Path(__file__).resolve().parent / "data"
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "gpx"
if not REALDATA.is_dir():
    REALDATA = Path("/work/shared/realdata/gpx")


def read(name: str, **kwargs):
    return read_gpx((DATA / name).read_bytes(), name, **kwargs)


# ------------------------------------------------------------------------------------------ real files


def test_a_route_export_without_times_is_an_untimed_route_with_elevation():
    streams = read("coursepointer__cptr003.gpx")
    assert len(streams) == 1352
    assert not streams.is_timed and streams.started_at is None
    assert streams.has_elevation
    assert 47_000 < streams.dist_m[-1] < 49_500  # Ride with GPS says 48 km
    assert np.all(np.diff(streams.dist_m) >= 0)


def test_a_gaia_route_of_rtept_on_one_line_reads_the_route_points():
    streams = read("coursepointer__cptr004.gpx")
    assert len(streams) == 805
    assert streams.name == "Castle Rock Hike"


def test_a_garmin_ride_reads_heart_rate_cadence_and_temperature_from_extensions():
    streams = read("sweatpy__activity_5039744860.gpx")
    assert len(streams) == 96 and streams.is_timed
    assert streams.started_at.tzinfo is not None
    assert 90 <= streams.t_s[-1] <= 130
    assert np.nanmin(streams.hr) > 50 and np.nanmax(streams.hr) < 200
    assert np.isfinite(streams.cadence).all() and np.isfinite(streams.temp).all()
    assert streams.power is None  # Garmin's GPX export drops power
    assert np.nanmin(streams.ele) < 0  # below sea level in Leiden


def test_strava_bare_power_and_a_comment_inside_extensions_are_read():
    streams = read("togeojson__strava.gpx")
    assert len(streams) == 3
    assert np.isfinite(streams.power[0])
    assert np.isfinite(streams.hr).all()


def test_an_undeclared_power_prefix_from_gpx_studio_still_imports_with_power():
    streams = read("gpxstudio__with_power_2.gpx")
    assert len(streams) == 80
    assert streams.power is not None and np.isfinite(streams.power).sum() > 0


def test_several_tracks_and_segments_are_joined_in_order():
    streams = read("prefixed_namespace_two_tracks_timed.gpx")
    assert len(streams) == 40
    assert streams.name == "Morning ride"
    assert streams.t_s[-1] == 39
    assert streams.power[0] == 200 and streams.hr[39] == 159 and streams.cadence[5] == 85
    assert streams.temp[0] == 18


def test_a_multi_track_gpx_1_0_file_reads_every_track():
    streams = read("gpxpy__cerknicko-jezero.gpx")
    assert len(streams) == 296
    assert streams.is_timed


def test_gpx_1_0_route_without_elevation_is_flagged_as_having_no_elevation():
    streams = read("gpx10_route_rtept_without_elevation.gpx")
    assert len(streams) == 30 and streams.name == "Planned loop"
    assert not streams.has_elevation
    assert any("no elevation" in w for w in streams.warnings)


def test_utf8_with_byte_order_mark_and_latin1_files_keep_their_accents():
    assert read("utf8_bom_track.gpx").name == "Côte de la Redoute"
    assert read("latin1_encoded_track.gpx").name == "Col de la Croix-Fry à Vélo"


def test_strava_numeric_activity_type_means_cycling_and_run_type_is_kept():
    assert read("georust__strava_route_example.gpx").sport_type == "running"
    assert read("prefixed_namespace_two_tracks_timed.gpx").sport_type == "cycling"


def test_a_device_clock_in_1901_gives_a_route_and_a_warning():
    streams = read("gpxpy__Mojstrovka.gpx")
    assert not streams.is_timed
    assert any("1901" in w for w in streams.warnings)


def test_a_track_with_only_one_point_but_a_real_route_draws_the_route():
    streams = read("gpxpy__gpx1.1_with_all_fields.gpx")
    assert len(streams) >= 2


@pytest.mark.parametrize("name, reason", [
    ("gpxgo__iso8859-1encoded.gpx", "only 8 waypoint(s)"),
    ("gpxpy__unicode_with_bom.gpx", "only 1 waypoint(s)"),
    ("georust__wahoo_example.gpx", "at the same place"),
    ("dost__sample_broken_1.gpx", "at least two distinct points"),
    ("togeojson__bad.gpx", "not a number"),
    ("gpxcli__invalid.gpx", "line 8"),
    ("coursepointer__invalid_bad_xml.gpx", "truncated"),
    ("coursepointer__invalid_empty.gpx", "empty"),
])
def test_odd_real_files_fail_with_a_sentence_naming_the_file(name, reason):
    with pytest.raises(InvalidFileError) as err:
        read(name)
    assert str(err.value).startswith(name + ":")
    assert reason in str(err.value)


@pytest.mark.parametrize("name", ["dost__26624974.gpx", "georust__with_accuracy.gpx", "togeojson__osm.gpx",
                                  "opentracks__legacy_gpx_trackpointextensions_incorrect.gpx"])
def test_odd_real_files_that_hold_a_track_import(name):
    streams = read(name)
    assert len(streams) >= 2 and np.isfinite(streams.dist_m).all()


def _realdata_files():
    if not REALDATA.is_dir():
        return []
    return sorted(REALDATA.glob("*/*.gpx"))


@pytest.mark.skipif(not REALDATA.is_dir(), reason="../shared/realdata is not present")
@pytest.mark.parametrize("path", _realdata_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shared_real_file_imports_plausibly_or_fails_with_a_clear_message(path):
    try:
        streams = read_gpx(path.read_bytes(), path.name, max_bytes=50 * 1024 * 1024)
    except InvalidFileError as exc:
        assert str(exc).startswith(path.name + ": ")
        # only waypoint files may fail among the valid ones
        assert path.parent.name == "odd" or "waypoint" in str(exc) or "two distinct points" in str(exc)
        return
    assert len(streams) >= 2
    assert np.all(np.diff(streams.dist_m) >= 0)
    assert streams.dist_m[-1] < 1_000_000  # under 1,000 km
    if streams.has_elevation:
        assert -500 < np.nanmin(streams.ele) and np.nanmax(streams.ele) < 9000
    if streams.hr is not None:
        assert np.nanmax(streams.hr) < 250


# --------------------------------------------------------------------------------------------- hostile


@pytest.mark.parametrize("name, reason", [
    ("billion_laughs.gpx", "entities"),
    ("external_entity_etc_passwd.gpx", "outside file"),
    ("truncated_mid_trackpoint.gpx", "truncated"),
    ("non_xml_bytes.gpx", "not valid text"),
    ("kml_renamed.gpx", "KML"),
    ("out_of_range_latitude.gpx", "latitude must be within ±90"),
    ("single_point.gpx", "at least two distinct points"),
    ("empty.gpx", "empty"),
])
def test_bad_files_give_a_clear_message_and_store_nothing(cur, athlete_id, name, reason):
    before = table_counts(cur)
    with pytest.raises(InvalidFileError) as err:
        import_gpx_route(cur, athlete_id, name, (DATA / name).read_bytes())
    message = str(err.value)
    assert message.startswith(name + ": ") and reason in message
    assert "Traceback" not in message
    assert table_counts(cur) == before


def test_the_content_of_etc_passwd_appears_nowhere(cur, athlete_id):
    data = (DATA / "external_entity_etc_passwd.gpx").read_bytes()
    with pytest.raises(InvalidFileError) as err:
        import_gpx_route(cur, athlete_id, "xxe.gpx", data)
    assert "root:" not in str(err.value)
    dump = " ".join(str(row) for row in cur.execute("SELECT * FROM audit_log").fetchall())
    assert "root:" not in dump and cur.execute("SELECT count(*) FROM routes").fetchone()[0] == 0


def test_a_file_over_the_size_limit_is_refused_before_reading(cur, athlete_id):
    data = (DATA / "coursepointer__cptr003.gpx").read_bytes()
    before = table_counts(cur)
    with pytest.raises(InvalidFileError, match=r"big.gpx: the file is 0\.1 MB, over the 0 MB limit"):
        import_gpx_route(cur, athlete_id, "big.gpx", data, max_bytes=100_000)
    assert table_counts(cur) == before


def test_the_default_size_limit_comes_from_the_settings(monkeypatch):
    monkeypatch.setenv("VELOCOACH_MAX_UPLOAD_MB", "1")
    big = b"<gpx>" + b" " * (1024 * 1024) + b"</gpx>"
    with pytest.raises(InvalidFileError, match="over the 1 MB limit"):
        read_gpx(big, "huge.gpx")


def test_a_hostile_deeply_nested_document_fails_cleanly():
    data = b'<gpx version="1.1">' + b"<a>" * 5000 + b"</a>" * 5000 + b"</gpx>"
    with pytest.raises(InvalidFileError, match="nested more than 256 deep"):
        read_gpx(data, "deep.gpx")


def test_a_point_without_longitude_is_named():
    data = b'<gpx version="1.1"><trk><trkseg><trkpt lat="1"/><trkpt lat="2" lon="2"/></trkseg></trk></gpx>'
    with pytest.raises(InvalidFileError, match="point 1 has no lon attribute"):
        read_gpx(data, "nolon.gpx")


def test_a_non_gpx_xml_file_names_its_root_element():
    with pytest.raises(InvalidFileError, match=r"not GPX \(its root element is <html>\)"):
        read_gpx(b"<html><body/></html>", "page.gpx")


# ---------------------------------------------------------------------------------------------- helpers


def test_undeclared_prefixes_are_declared_on_the_root_only_when_missing():
    fixed = _declare_missing_prefixes(b'<gpx version="1.1" xmlns:a="x"><a:b/><p:q/></gpx>')
    assert b'xmlns:p="urn:velocoach:undeclared:p"' in fixed and b"xmlns:a=\"urn" not in fixed


def test_distance_along_a_meridian_degree_is_about_111_km():
    dist = cumulative_distance_m(np.array([45.0, 46.0]), np.array([6.0, 6.0]))
    assert dist[-1] == pytest.approx(111_195, rel=1e-3)


def test_written_gpx_reads_back_the_same_points_and_times():
    original = read("prefixed_namespace_two_tracks_timed.gpx")
    again = read_gpx(to_gpx(original).encode("utf-8"), "again.gpx")
    assert np.allclose(again.lat, original.lat) and np.allclose(again.ele, original.ele)
    assert np.allclose(again.t_s, original.t_s)
    assert again.started_at == original.started_at
