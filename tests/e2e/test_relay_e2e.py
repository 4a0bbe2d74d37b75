"""The command line while the real app (`streamlit run app.py`) holds the database: commands are forwarded to
it and print exactly what a direct run prints on a copy of the database, with the same exit codes; files named
on the command line are read and written by the command line (relative to its own folder, which the app does not
share); a program without the token is refused; a browser session and the command line import at the same time
and every ride lands."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from core.access.local_api import api_file
from core.cli import main
from core.store.db import connect, integrity_problems
from tests.e2e.conftest import ROOT, open_app, wait_for_app

DATA = ROOT / "tests" / "data"
RIDES = DATA / "rides"


def cli(db: Path, *argv: str, cwd: Path) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VELOCOACH_DATA_DIR": str(db.parent / "files"),
           "VELOCOACH_ENV": "test"}
    result = subprocess.run([sys.executable, "-m", "core", "--db", str(db), *argv], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout, result.stderr


def direct(db: Path, *argv: str, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--db", str(db), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def post(port: int, name: str, body: dict, headers: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", f"/_velocoach/api/{name}", body=json.dumps(body), headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def test_commands_run_in_the_app_exactly_as_they_run_directly(tmp_path, start_app, demo_db_template, capsys,
                                                              monkeypatch):
    app_db, copy_db = tmp_path / "app" / "v.duckdb", tmp_path / "direct" / "v.duckdb"
    for path in (app_db, copy_db):
        path.parent.mkdir()
        shutil.copy(demo_db_template, path)
    server = start_app(app_db)
    here, there = tmp_path / "cli-here", tmp_path / "direct-here"  # each run's own folder: files are relative
    for folder in (here, there):
        folder.mkdir()
        shutil.copy(RIDES / "gc__Garmin830_with_Stages.fit", folder / "ride.fit")
        shutil.copy(DATA / "gpxpy__Mojstrovka.gpx", folder / "route.gpx")
        (folder / "broken.gpx").write_text("<gpx")

    monkeypatch.setenv("VELOCOACH_DATA_DIR", str(copy_db.parent / "files"))
    for argv in (["rides", "--json"], ["metrics", "weekly", "--json"], ["ride", "99999"],
                 ["import", "ride.fit", "route.gpx", "broken.gpx", "--json"], ["rides", "--page-size", "3"],
                 ["export-gpx", "ride", "1", "--out", "one.gpx", "--json"], ["plan", "list"]):
        forwarded = cli(app_db, *argv, cwd=here)
        monkeypatch.chdir(there)
        assert forwarded == direct(copy_db, *argv, capsys=capsys), argv
    assert forwarded[0] == 0 and "Demo" in forwarded[1]
    assert (here / "one.gpx").read_bytes() == (there / "one.gpx").read_bytes()
    assert not (ROOT / "one.gpx").exists()  # the app (whose folder is ROOT) wrote nothing itself

    # a usage error never leaves the command line
    code, _, err = cli(app_db, "rides", "--bogus", cwd=here)
    assert code == 2 and "unrecognized arguments" in err

    # a program without the token, or a browser, is refused
    port, body = server.port, {"protocol": 1, "argv": ["rides"], "db": str(app_db)}
    assert post(port, "cli/run", body, {"Content-Type": "application/json", "Authorization": "Bearer nope"}) == 401
    assert post(port, "cli/run", body, {"Content-Type": "application/json", "Origin": server.url}) == 403
    assert post(port, "cli/run", body, {"Content-Type": "text/plain"}) == 415

    # an API file others could read is not trusted: the command line says the database is in use
    os.chmod(api_file(app_db.parent / "files"), 0o644)
    code, _, err = cli(app_db, "rides", cwd=here)
    assert code == 1 and "in use by another VeloCoach process" in err
    os.chmod(api_file(app_db.parent / "files"), 0o600)


def test_a_browser_and_the_command_line_importing_at_once_both_land_every_ride(tmp_path, start_app, browser_page):
    cli_files = ["gc__Garmin830_with_Stages.fit", "gc__Karoo-Botley_BW_Swanmore_Wickham-2025-05-09-1238.fit",
                 "sweatpy__4078723797.fit"]
    db = tmp_path / "both.duckdb"
    main(["--db", str(db), "init"])
    server = start_app(db, VELOCOACH_SEED_DEMO="0")
    browser_files = ["fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit",
                     "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit", "fitparse__nick.fit"]
    page = browser_page
    open_app(page, server, "/rides")
    drop_zone = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    drop_zone.wait_for(state="attached")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VELOCOACH_DATA_DIR": str(tmp_path / "files")}
    importing = subprocess.Popen([sys.executable, "-m", "core", "--db", str(db), "import", "--json",
                                  *[str(RIDES / f) for f in cli_files]], cwd=tmp_path, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    drop_zone.set_input_files([str(RIDES / f) for f in browser_files])  # dropped files import at once
    out, err = importing.communicate(timeout=300)
    for name in browser_files:
        page.get_by_text(f"{name}: ride of").wait_for(timeout=120_000)
    wait_for_app(page)
    results = [json.loads(line) for line in out.splitlines()]
    assert importing.returncode == 0, (out, err, importing.pid, server.process.pid, os.getpid())
    assert [r["ok"] for r in results] == [True] * 3
    server.stop()
    database = connect(db)
    try:
        names = {row[0] for row in database.cursor().execute("SELECT source_file FROM rides").fetchall()}
        assert names == set(browser_files) | set(cli_files)
        assert integrity_problems(database.cursor()) == []
    finally:
        database.close()


def test_the_app_syncs_a_due_account_in_the_background_shows_it_and_stops_cleanly(tmp_path, start_app, browser_page,
                                                                                  monkeypatch):
    from datetime import UTC, datetime, timedelta

    from core.athletes import AthleteProfile, create_athlete
    from core.garmin.accounts import sign_in
    from core.garmin.schedule import set_auto_sync
    from tests.e2e.conftest import screenshot
    from tests.fakes.garmin_server import LIST_PATH, FakeGarmin, cycling_activities

    db, files = tmp_path / "sync.duckdb", tmp_path / "files"
    with FakeGarmin(activities=cycling_activities(4, datetime.now(UTC) - timedelta(days=4))) as fake:
        fake.install(monkeypatch)
        database = connect(db)
        cur = database.cursor()
        athlete_id = create_athlete(cur, AthleteProfile(name="Scheduled Rider"))
        set_auto_sync(cur, sign_in(cur, athlete_id, "Edge 530", fake.email, fake.password, files_dir=files), 60)
        database.close()
        server = start_app(db, VELOCOACH_SEED_DEMO="0", VELOCOACH_SYNC_CHECK_S="0.2", **fake.env())
        deadline = time.monotonic() + 60
        while fake.count(LIST_PATH) == 0 or fake.count("/download-service/") < 4:
            assert time.monotonic() < deadline, server.log_path.read_text()[-2000:]
            time.sleep(0.1)

        code, out, err = cli(db, "garmin", "schedule", "--json", cwd=tmp_path)  # forwarded: the app's own view
        assert code == 0, err
        (status,) = [json.loads(line) for line in out.splitlines()]
        assert status["scheduler_running"] and status["enabled"] and status["interval_minutes"] == 60
        assert status["last_scheduled_run"]["status"] == "ok" and status["last_scheduled_run"]["imported"] == 4
        next_run = datetime.fromisoformat(status["next_run_at"])
        assert timedelta(minutes=59) < next_run - datetime.now(UTC) <= timedelta(minutes=66)

        page = browser_page
        open_app(page, server, "/garmin")
        page.get_by_role("heading", name="Background sync").wait_for()
        page.get_by_text("next run around").wait_for()
        page.get_by_text(": ok, 4 imported, 0 failed").wait_for()
        screenshot(page, "garmin-background-sync")
        assert page.blocked_requests == []

        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 10 and server.process.returncode is not None
    log = server.log_path.read_text()
    assert "Traceback" not in log and "failed to stop" not in log
    assert not api_file(files).exists() and fake.count(LIST_PATH) == 1
    database = connect(db)
    try:
        assert database.cursor().execute("SELECT origin, status FROM sync_log").fetchall() == [("scheduled", "ok")]
    finally:
        database.close()
