"""Per-file outcomes: every file of a multi-file import gets its own result whatever the failure (an unknown text
encoding raised LookupError, a full disk an IOException, and both stopped the whole CLI import), and the files
after it are still imported. The faults are injected into real files from tests/data."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from core.files.gpx import read_gpx
from core.importer import import_files
from core.store.db import connect, integrity_problems
from tests.test_cli import ROOT, run_cli

DATA = ROOT / "tests" / "data"
GOOD_RIDE = DATA / "rides" / "gc__Garmin830_with_Stages.fit"
GOOD_ROUTE = DATA / "coursepointer__cptr003.gpx"


def _unknown_encoding(tmp_path: Path) -> Path:
    data = (DATA / "latin1_encoded_track.gpx").read_bytes().replace(b"ISO-8859-1", b"x-klingon")
    path = tmp_path / "klingon.gpx"
    path.write_bytes(data)
    return path


def test_a_cli_import_gives_every_file_its_own_line_and_goes_on(tmp_path):
    truncated = tmp_path / "truncated.fit"
    truncated.write_bytes(GOOD_RIDE.read_bytes()[:9])
    files = [_unknown_encoding(tmp_path), GOOD_RIDE, tmp_path / "missing.gpx", truncated, GOOD_ROUTE,
             tmp_path]  # a folder: its .gpx and .fit files (the two above) are imported again, each its line
    db = tmp_path / "x.duckdb"
    result = run_cli("--db", str(db), "import", *map(str, files), "--json", "--as", "ride")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1
    assert [line["file"] for line in lines] == ["klingon.gpx", GOOD_RIDE.name, "missing.gpx", "truncated.fit",
                                                GOOD_ROUTE.name, "klingon.gpx", "truncated.fit"]
    by_file = {line["file"]: line for line in lines}
    assert "text encoding 'x-klingon'" in by_file["klingon.gpx"]["error"]
    assert "no such file" in by_file["missing.gpx"]["error"]
    assert by_file[GOOD_RIDE.name]["ok"] and by_file[GOOD_RIDE.name]["kind"] == "ride"
    assert not by_file[GOOD_ROUTE.name]["ok"] and "no times" in by_file[GOOD_ROUTE.name]["error"]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.gpx"
    with big.open("wb") as handle:  # sparse: 3 MB that cost no disk and are never read
        handle.truncate(3 * 1024 * 1024)
    env = {**os.environ, "VELOCOACH_MAX_UPLOAD_MB": "2", "VELOCOACH_SEED_DEMO": "0"}
    result = run_cli("--db", str(tmp_path / "x.duckdb"), "import", str(big), str(GOOD_RIDE), "--json", env=env)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert "3.0 MB, over the 2 MB limit" in lines[0]["error"] and lines[1]["ok"]


def test_the_app_import_gives_every_upload_its_own_result(cur, athlete_id):
    unknown = (DATA / "latin1_encoded_track.gpx").read_bytes().replace(b"ISO-8859-1", b"x-klingon")
    results = import_files(cur, athlete_id, [("klingon.gpx", unknown), (GOOD_RIDE.name, GOOD_RIDE.read_bytes()),
                                             ("empty.fit", b"")])
    assert [r["ok"] for r in results] == [False, True, False]
    assert "x-klingon" in results[0]["error"] and "empty" in results[2]["error"]


def test_a_gpx_in_a_multi_byte_encoding_is_read():
    data = (DATA / "georust__garmin_with_extensions.gpx").read_bytes()
    data = data.replace(b'encoding="UTF-8"', b'encoding="Shift_JIS"', 1)
    start, end = data.index(b"<name>") + 6, data.index(b"</name>")
    data = data[:start] + "富士山の峠".encode("shift_jis") + data[end:]
    streams = read_gpx(data, "japan.gpx")
    assert streams.name == "富士山の峠" and len(streams) == 3540


def _no_bigger_than(limit: int):
    def apply() -> None:  # in the child: a write past the limit fails with EFBIG, like a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_fails_one_file_and_the_others_still_get_their_result(tmp_path):
    db = tmp_path / "full.duckdb"
    assert run_cli("--db", str(db), "init").returncode == 0
    rides = DATA / "rides"
    files = [rides / "gc__Garmin830_with_Stages.fit", rides / "fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit",
             GOOD_ROUTE, rides / "sweatpy__4078723797.fit"]
    env = {**os.environ, "VELOCOACH_SEED_DEMO": "0"}
    result = subprocess.run([sys.executable, "-m", "core", "--db", str(db), "import", *map(str, files), "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
                            preexec_fn=_no_bigger_than(db.stat().st_size // 2))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [f.name for f in files]  # one result per file, in order
    failed = [line for line in lines if not line["ok"]]
    assert failed and result.returncode == 1
    assert all("the disk is full" in line["error"] and "nothing was changed" in line["error"] for line in failed)
    database = connect(db)
    try:
        cur = database.cursor()
        stored = {r[0] for r in cur.execute("SELECT source_file FROM rides").fetchall()}
        stored |= {r[0] for r in cur.execute("SELECT source_file FROM routes WHERE kind = 'planned'").fetchall()}
        assert stored == {line["file"] for line in lines if line["ok"]}
        assert integrity_problems(cur) == []
    finally:
        database.close()
