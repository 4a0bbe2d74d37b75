"""`python -m core import … / routes / sections / route rename|delete` for GPX routes, in-process."""

from __future__ import annotations

import json
from pathlib import Path

from core.cli import main
from core.store.db import connect, integrity_problems, table_counts

DATA = Path(__file__).resolve().parent / "data"


def run(capsys, db_path, *argv) -> tuple[int, str, str]:
    code = main(["--db", str(db_path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_importing_gpx_routes_prints_one_json_line_per_file_and_exits_1_if_any_failed(db_path, capsys):
    code, out, _ = run(capsys, db_path, "import", str(DATA / "coursepointer__cptr003.gpx"),
                       str(DATA / "billion_laughs.gpx"), str(DATA / "coursepointer__cptr004.gpx"), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [r["ok"] for r in lines] == [True, False, True]
    assert lines[0]["kind"] == "route" and lines[0]["points"] == 1352
    assert set(lines[1]) == {"file", "ok", "error"} and "refused for safety" in lines[1]["error"]
    assert set(lines[0]["sections"][0]) == {"kind", "start_m", "end_m", "distance_m", "elevation_gain_m",
                                            "avg_grade_pct", "max_grade_pct", "category", "fiets", "est_time_s"}

    code, out, _ = run(capsys, db_path, "sections", str(lines[0]["id"]), "--json")
    assert code == 0 and json.loads(out)["sections"] == lines[0]["sections"]

    code, out, _ = run(capsys, db_path, "routes", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in listed] == [lines[2]["id"], lines[0]["id"]]


def test_renaming_and_deleting_a_route_from_the_command_line(db_path, capsys):
    code, out, _ = run(capsys, db_path, "import", str(DATA / "georust__strava_route_example.gpx"), "--json")
    route_id = json.loads(out)["id"]
    assert run(capsys, db_path, "route", "rename", str(route_id), "Lunch loop")[0] == 0
    code, out, _ = run(capsys, db_path, "routes")
    assert "Lunch loop" in out
    assert run(capsys, db_path, "route", "resection", str(route_id))[0] == 0
    assert run(capsys, db_path, "route", "delete", str(route_id))[0] == 0
    database = connect(db_path)
    try:
        counts = table_counts(database.cursor())
        assert counts["routes"] == counts["route_points"] == counts["sections"] == 0
        assert integrity_problems(database.cursor()) == []
    finally:
        database.close()


def test_sections_of_a_missing_route_fail_with_a_sentence(db_path, capsys):
    code, out, err = run(capsys, db_path, "sections", "999", "--json")
    assert code == 1 and out == "" and "Route 999 was not found" in err
