"""Forwarded commands in one process: the app's relay (core.relay.server) and the command line's loop
(core.relay.client.follow) joined by direct calls instead of HTTP (the live tests in tests/e2e/test_relay_e2e.py
use the real server). Same handler, same output, same exit codes as a direct run; files only through the command
line's guard; Ctrl-C and a vanished command line end the command and change nothing."""

from __future__ import annotations

import errno
import json
import shutil
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.cli import build_parser, main
from core.errors import ExportImportError, NotFoundError, VeloCoachError
from core.relay.client import follow
from core.relay.files import PROTOCOL, ForwardedFiles, LocalFiles, NamedFiles, decode_error, encode_error, schema_known
from core.relay.server import CommandRelay, Job
from core.store.db import connect, table_counts
from core.store.shared import SharedDatabase
from tests.conftest import DATA_DIR

RIDE_FIT = DATA_DIR / "rides" / "fitparse__Edge810-Vector-2013-08-16-15-35-10.fit"
RIDE_GPX = DATA_DIR / "rides" / "sweatpy__activity_4078723797.gpx"
ROUTE_GPX = DATA_DIR / "gpxpy__Mojstrovka.gpx"


@pytest.fixture
def relay(db_path):
    main(["--db", str(db_path), "init"])
    database = SharedDatabase(db_path)
    service = CommandRelay(database.get, database.path, reply_timeout_s=1.0)
    yield service
    service.close()
    database.close()


def send_to(relay: CommandRelay):
    routes = relay.routes()
    return lambda name, body: routes[name](SimpleNamespace(body=body))


def start(relay: CommandRelay, db_path: Path, argv: list[str]) -> dict:
    return send_to(relay)("cli/run", {"protocol": PROTOCOL, "schema": schema_known(), "db": str(db_path),
                                      "argv": argv})


def forwarded(relay: CommandRelay, db_path: Path, *argv: str) -> int:
    """What `python -m core ARGV` does when the app holds the database, minus the HTTP."""
    args = build_parser().parse_args(list(argv))
    return follow(send_to(relay), start(relay, db_path, list(argv)), NamedFiles(args))


def both(relay, db_path, capsys, *argv: str) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """(exit code, stdout, stderr) of the forwarded run, then of a direct run of the same command on a copy of
    the database taken before."""
    copy = db_path.with_name("copy.duckdb")
    relay._database().connection.execute("CHECKPOINT")
    shutil.copy(db_path, copy)
    code = forwarded(relay, db_path, *argv)
    out = capsys.readouterr()
    direct_code = main(["--db", str(copy), *argv])
    direct = capsys.readouterr()
    return (code, out.out, out.err), (direct_code, direct.out, direct.err)


# -- same behaviour as a direct run ----------------------------------------------------------------------------
def test_reads_and_writes_print_what_a_direct_run_prints_with_the_same_exit_codes(relay, db_path, capsys, tmp_path,
                                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.fit").write_bytes(b"not a fit file")
    for argv in (["import", str(RIDE_FIT), str(ROUTE_GPX), "broken.fit", "missing.gpx"],  # exit 1: two failed
                 ["import", str(RIDE_GPX), "--json"],
                 ["rides", "--json"], ["rides"], ["metrics", "weekly", "--json"], ["routes", "--json"],
                 ["ride", "1", "--json"], ["ride", "999"], ["athletes"]):
        forwarded_run, direct_run = both(relay, db_path, capsys, *argv)
        assert forwarded_run == direct_run, argv
    code, out, err = forwarded_run
    assert code == 0 and "Rider" in out


def test_output_keeps_the_order_of_stdout_and_stderr(relay, db_path, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "broken.gpx").write_text("<gpx")
    shutil.copy(ROUTE_GPX, tmp_path / "route.gpx")
    seen: list[str] = []
    args = build_parser().parse_args(["import", "broken.gpx", "route.gpx"])
    answer = start(relay, db_path, ["import", "broken.gpx", "route.gpx"])
    send, files = send_to(relay), NamedFiles(args)
    while not answer["done"]:
        seen += [stream for stream, _ in answer["output"]]
        request = answer["request"]
        reply = None if request is None else {"id": request["id"], **files.serve(request)}
        answer = send("cli/poll", {"job": answer["job"], "ack": answer["seq"], "reply": reply})
    seen += [stream for stream, _ in answer["output"]]
    assert seen == ["stderr", "stdout"] and answer["exit_code"] == 1


def test_a_usage_error_in_the_app_is_exit_2_and_help_is_exit_0(relay, db_path, capsys):
    # the command line parses first, so this happens only when the app runs other code (a version skew)
    assert follow(send_to(relay), start(relay, db_path, ["rides", "--bogus"]), NamedFiles(SimpleNamespace())) == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert follow(send_to(relay), start(relay, db_path, ["rides", "--help"]), NamedFiles(SimpleNamespace())) == 0
    assert "--min-km" in capsys.readouterr().out


def test_exports_are_written_by_the_command_line_to_the_paths_it_named(relay, db_path, capsys, tmp_path,
                                                                       monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert forwarded(relay, db_path, "import", str(RIDE_FIT)) == 0
    assert forwarded(relay, db_path, "export", "--format", "json", "--out", "out/backup.json", "--json") == 0
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    written = tmp_path / "out" / "backup.json"
    assert line["file"] == "out/backup.json" and written.stat().st_size == line["bytes"]
    assert "Rider" in str(json.loads(written.read_text())["tables"]["athletes"])
    assert forwarded(relay, db_path, "export-gpx", "ride", "1") == 0  # the default name, in this folder
    assert [p.suffix for p in tmp_path.glob("*.gpx")] == [".gpx"]


def test_a_restore_reads_the_backup_through_the_command_line_and_a_folder_is_refused_the_same_way(
        relay, db_path, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    forwarded(relay, db_path, "import", str(RIDE_FIT))
    forwarded(relay, db_path, "export", "--out", "b.zip")
    forwarded(relay, db_path, "athletes")
    capsys.readouterr()
    assert forwarded(relay, db_path, "restore", str(tmp_path)) == 1
    assert capsys.readouterr().err == f"error: {tmp_path}: this is a folder, not a backup file\n"
    assert forwarded(relay, db_path, "restore", "nothing.zip") == 1
    assert capsys.readouterr().err == "error: nothing.zip: there is no such file\n"


# -- Ctrl-C, a command line that vanished, refusals ------------------------------------------------------------
def test_ctrl_c_interrupts_the_command_in_the_app_and_its_transaction_rolls_back(relay, db_path, capsys):
    before = table_counts(relay._database().cursor())
    send = send_to(relay)
    answer = start(relay, db_path, ["demo", "--years", "1"])
    while not any("%" in text for _, text in answer["output"]):  # the season is being written
        answer = send("cli/poll", {"job": answer["job"], "ack": answer["seq"]})
    send("cli/cancel", {"job": answer["job"]})
    while not answer["done"]:
        answer = send("cli/poll", {"job": answer["job"], "ack": answer["seq"]})
    assert answer["exit_code"] == 1 and answer["output"][-1] == ["stderr", "error: interrupted\n"]
    assert table_counts(relay._database().cursor()) == before


def test_a_command_line_that_stops_answering_ends_the_command_and_nothing_is_stored(relay, db_path, tmp_path):
    before = table_counts(relay._database().cursor())
    answer = start(relay, db_path, ["import", str(RIDE_FIT)])
    assert answer["request"]["op"] == "expand"  # ... and nobody answers it
    while not answer["done"]:
        answer = send_to(relay)("cli/poll", {"job": answer["job"], "ack": answer["seq"]})
    assert answer["exit_code"] == 1 and "stopped answering" in answer["output"][-1][1]
    assert table_counts(relay._database().cursor()) == before


def test_an_answer_lost_on_the_way_is_sent_again(relay, db_path):
    answer = start(relay, db_path, ["import", str(RIDE_FIT)])
    again = send_to(relay)("cli/poll", {"job": answer["job"], "ack": 0})
    assert again == answer and again["request"]["op"] == "expand"


@pytest.mark.parametrize(("change", "refusal"), [
    ({"db": "/elsewhere/other.duckdb"}, "uses another database"),
    ({"protocol": 99}, "another version of the command protocol"),
    ({"schema": 1}, "another version of VeloCoach"),
    ({"argv": "rides --json"}, "not a list of arguments"),
    ({"argv": ["rides"] * 2000}, "not a list of arguments"),
])
def test_the_app_refuses_a_command_for_another_database_or_version(relay, db_path, change, refusal):
    body = {"protocol": PROTOCOL, "schema": schema_known(), "db": str(db_path), "argv": ["rides"], **change}
    with pytest.raises(VeloCoachError, match=refusal):
        send_to(relay)("cli/run", body)


def test_polling_a_job_the_app_does_not_know_says_so(relay):
    with pytest.raises(VeloCoachError, match="no such command"):
        send_to(relay)("cli/poll", {"job": "nope", "ack": 0})


def test_long_output_comes_in_answers_of_bounded_size(db_path):
    job = Job(["rides"], db_path, lambda: None, reply_timeout_s=1.0)
    job.emit("stdout", "x" * 2_500_000)
    job.emit("stderr", "done\n")
    first = job.events(0)
    second = job.events(0, first["seq"])
    assert [len(t) for _, t in first["output"]] == [2_000_000]
    assert second["output"] == [["stdout", "x" * 500_000], ["stderr", "done\n"]]


def test_commands_forwarded_at_once_each_get_their_own_output(relay, db_path, tmp_path):
    results: dict[str, tuple[int, str]] = {}

    def run(name: str, argv: list[str]) -> None:
        answer = start(relay, db_path, argv)
        text = ""
        while True:
            text += "".join(t for _, t in answer["output"])
            if answer["done"]:
                results[name] = (answer["exit_code"], text)
                return
            answer = send_to(relay)("cli/poll", {"job": answer["job"], "ack": answer["seq"]})

    threads = [threading.Thread(target=run, args=(f"t{i}", ["ride", str(100 + i)])) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {f"t{i}": (1, f"error: Ride {100 + i} was not found\n") for i in range(6)}


# -- the command line's guard: only what it named --------------------------------------------------------------
def command_line(*argv: str) -> ForwardedFiles:
    """``ctx.files`` in the app for ``argv``, served by the command line's guard (without HTTP)."""
    served = NamedFiles(build_parser().parse_args(list(argv)))
    return ForwardedFiles(lambda op: _served(served, op))


def test_the_command_line_serves_only_the_files_it_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rides").mkdir()
    (tmp_path / "rides" / "a.fit").write_bytes(b"A")
    (tmp_path / "rides" / "notes.txt").write_bytes(b"N")
    (tmp_path / "secret.txt").write_text("private")
    files = command_line("import", "rides")
    assert files.expand([Path("rides")], {".fit"}) == [Path("rides/a.fit")]
    assert files.read_bytes(Path("rides/a.fit")) == b"A"
    for path in ("secret.txt", "rides/../secret.txt", str(tmp_path / "secret.txt"), "/etc/passwd"):
        with pytest.raises(PermissionError) as refused:
            files.read_bytes(Path(path))
        assert refused.value.errno == errno.EACCES and "not named on the command line" in str(refused.value)
    with pytest.raises(PermissionError):
        files.write_atomically(Path("rides/a.fit"), b"overwritten")
    with pytest.raises(PermissionError):
        files.ask_secret("Password: ")
    assert (tmp_path / "rides" / "a.fit").read_bytes() == b"A"


@pytest.mark.parametrize("path", ["../x.zip", "sub/x.zip", ".bashrc.zip", "x.sh", "/tmp/x.zip", ".x.zip"])
def test_a_default_output_is_a_plain_file_name_here_with_the_commands_suffix(tmp_path, monkeypatch, path):
    monkeypatch.chdir(tmp_path)
    files = command_line("export")
    with pytest.raises(PermissionError):
        files.write_atomically(Path(path), b"data")
    files.write_atomically(Path("velocoach-rider-2025-01-01.zip"), b"data")
    assert (tmp_path / "velocoach-rider-2025-01-01.zip").read_bytes() == b"data"


def test_workout_files_go_only_into_the_named_folder_under_plain_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = command_line("plan", "export", "1", "--format", "zwo", "--output", "wk")
    for name in ("../escape.zwo", ".hidden.zwo", "sub/a.zwo"):
        with pytest.raises(PermissionError):
            files.write_files_into(Path("wk"), [("a.zwo", b"1"), (name, b"2")])
    assert not (tmp_path / "wk").exists()
    with pytest.raises(PermissionError):
        files.write_files_into(Path("elsewhere"), [("a.zwo", b"1")])
    big = bytes(range(256)) * 40_000  # several chunks
    assert files.write_files_into(Path("wk"), [("a.zwo", b"1"), ("b.zwo", big)]) == [Path("wk/a.zwo"),
                                                                                      Path("wk/b.zwo")]
    assert (tmp_path / "wk" / "b.zwo").read_bytes() == big


def test_a_request_asked_again_is_not_done_twice(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    served = NamedFiles(build_parser().parse_args(["export", "--out", "b.zip"]))
    chunk = {"op": "stage", "key": "s1", "data": "QUJD", "id": 1}
    assert served.serve(chunk) == served.serve(chunk) == {"ok": True}
    assert served.serve({"op": "write", "path": "b.zip", "key": "s1", "id": 2})["ok"]
    assert (tmp_path / "b.zip").read_bytes() == b"ABC"


def test_errors_cross_as_what_they_were():
    missing = decode_error(encode_error(FileNotFoundError(errno.ENOENT, "No such file", "x.fit")))
    assert isinstance(missing, FileNotFoundError) and missing.filename == "x.fit"
    assert isinstance(decode_error(encode_error(ExportImportError("full"))), ExportImportError)
    assert type(decode_error(encode_error(NotFoundError("gone")))) is NotFoundError
    forged = decode_error({"kind": "velocoach", "type": "SystemExit", "message": "boom"})
    assert type(forged) is VeloCoachError and str(forged) == "boom"


def _served(files: NamedFiles, op: dict) -> dict:
    answer = files.serve({**op, "id": time.monotonic_ns()})
    if not answer["ok"]:
        raise decode_error(answer["error"])
    return answer


def test_local_files_are_what_a_direct_run_uses(tmp_path):
    files = LocalFiles()
    (tmp_path / "a.gpx").write_text("x")
    assert files.stat(tmp_path).is_dir and files.stat(tmp_path / "a.gpx").size == 1
    assert files.read_bytes(tmp_path / "a.gpx", 0, 1) == b"x"


def test_a_connection_from_the_relay_sees_what_the_app_wrote(relay, db_path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    forwarded(relay, db_path, "import", str(RIDE_FIT))
    other = connect(db_path)
    try:
        assert other.cursor().execute("SELECT count(*) FROM rides").fetchone()[0] == 1
    finally:
        other.close()


def test_the_api_client_knows_who_listens_on_the_apps_port(tmp_path):
    import os
    import socket

    from core.access.local_api import listener_owner

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert listener_owner(port) == {os.getuid()}
    table = tmp_path / "tcp"
    table.write_text("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
                     f"   0: 0100007F:{port:04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000  4242 0 1\n"
                     f"   1: 0100007F:{port:04X} 0100007F:9999 01 00000000:00000000 00:00000000 00000000  7 0 2\n")
    assert listener_owner(port, (str(table),)) == {4242}  # only the listening socket counts
    assert listener_owner(port, (str(tmp_path / "absent"),)) is None


def test_garmin_login_asks_in_the_terminal_and_signs_in_through_the_app(relay, db_path, monkeypatch, capsys):
    import io

    from tests.fakes.garmin_server import FakeGarmin

    with FakeGarmin() as fake:
        fake.install(monkeypatch)
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{fake.password}\n"))  # not a terminal: one line is read
        assert forwarded(relay, db_path, "garmin", "login", "--email", fake.email, "--label", "Edge", "--json") == 0
        out = capsys.readouterr()
        assert json.loads(out.out)["label"] == "Edge" and fake.password not in out.out + out.err
        monkeypatch.setattr("sys.stdin", io.StringIO("wrong password\n"))
        assert forwarded(relay, db_path, "garmin", "login", "--email", fake.email, "--label", "Other") == 1
        assert capsys.readouterr().err == "error: Garmin Connect refused the e-mail or password\n"
    names = relay._database().cursor().execute("SELECT label FROM garmin_accounts").fetchall()
    assert names == [("Edge",)]
