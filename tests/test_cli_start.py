"""The light commands start without the heavy libraries, and the light code paths give what the pages' did."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import lfilter

from core.rides import dashboard, totals
from core.store.db import connect, transaction
from tests.test_dashboard_fitness import insert_ride

ROOT = Path(__file__).resolve().parent.parent
FIT = ROOT / "tests" / "data" / "rides" / "fitparse__2019-02-17-062644-ELEMNT-297E-195-0.fit"
HEAVY = ("pandas", "scipy", "pyarrow", "plotly", "folium", "streamlit", "openai", "garminconnect", "numpy", "pydantic",
         "logging.handlers")

# Runs the commands in one fresh interpreter through core.cli.main, then names the heavy modules it loaded.
PROBE = """
import json, sys, contextlib, io
from core.cli import main
loaded = {}
for argv in json.loads(sys.argv[2]):
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["--db", sys.argv[1], *argv])
    loaded[" ".join(argv)] = [code, sorted(m for m in json.loads(sys.argv[3]) if m in sys.modules)]
print(json.dumps(loaded))
"""


def test_light_commands_load_no_numpy_pydantic_pandas_scipy_arrow_plotly_or_folium(db_path):
    subprocess.run([sys.executable, "-m", "core", "--db", str(db_path), "import", str(FIT)], cwd=ROOT, check=True,
                   capture_output=True)
    commands = [["athletes"], ["rides", "--json"], ["metrics", "weekly", "--json"], ["metrics", "monthly"],
                ["metrics", "fitness", "--json"], ["ride", "1", "--json"]]
    result = subprocess.run([sys.executable, "-c", PROBE, str(db_path), json.dumps(commands), json.dumps(HEAVY)],
                            cwd=ROOT, check=True, capture_output=True, text=True)
    loaded = json.loads(result.stdout)
    assert loaded == {" ".join(argv): [0, []] for argv in commands}


def test_the_fitness_recursion_matches_scipy_lfilter():
    rng = np.random.default_rng(7)
    tss = rng.uniform(0, 250, 3000)
    tss[rng.random(3000) < 0.3] = 0.0
    tss[5] = np.nan  # a day without a rated ride counts as 0
    clean = np.nan_to_num(tss)
    for tau, initial in ((42.0, 0.0), (7.0, 35.5), (1.0, 80.0)):
        decay = math.exp(-1 / tau)
        reference, _ = lfilter([1 - decay], [1, -decay], clean, zi=[decay * initial])
        assert np.allclose(totals.exponential_load_values(tss.tolist(), tau, initial), reference, rtol=1e-12,
                           atol=1e-9)
        assert np.allclose(dashboard.exponential_load(tss, tau, initial), reference, rtol=1e-12, atol=1e-9)


def test_fitness_values_give_yesterdays_form_and_a_seven_day_ramp():
    series = totals.fitness_values([100.0] * 10, ctl_days=42, atl_days=7, ctl0=10.0, atl0=20.0)
    assert series["tsb"][0] == -10.0  # form going into day 1 is the starting CTL − ATL
    assert series["tsb"][3] == pytest.approx(series["ctl"][2] - series["atl"][2])
    assert series["ramp"][2] == pytest.approx(series["ctl"][2] - 10.0)
    assert series["ramp"][9] == pytest.approx(series["ctl"][9] - series["ctl"][2])


def test_rows_and_frames_agree_on_totals_and_fitness(db_path):
    db = connect(db_path)
    try:
        cur = db.cursor()
        athlete = cur.execute("INSERT INTO athletes (name) VALUES ('A') RETURNING id").fetchone()[0]
        start = date(2024, 1, 1)
        with transaction(cur):
            for i in range(0, 120, 3):
                insert_ride(cur, athlete, start + timedelta(days=i), 40 + i % 50, distance_m=20_000 + 100 * i,
                            avg_power_w=None if i % 9 == 0 else 180 + i % 40, sport="gravel" if i % 4 else "cycling")
        for period in ("week", "month"):
            for by_sport in (False, True):
                rows = totals.period_rows(cur, athlete, period, by_sport=by_sport)
                frame = dashboard.period_totals(cur, athlete, period, by_sport=by_sport)
                assert len(rows) == len(frame) > 0
                for row, record in zip(rows, frame.to_dict("records"), strict=True):
                    assert row["period_start"] == record["period_start"]
                    for key in ("rides", "distance_m", "tss", "avg_power_w"):
                        expected = record[key]
                        if row[key] is None:
                            assert math.isnan(expected)
                        else:
                            assert float(row[key]) == pytest.approx(expected)
        weekly = totals.period_rows(cur, athlete, "week")
        assert [r["rides"] for r in weekly[:2]] == [3, 2]  # Mon 1, Thu 4, Sun 7 | Wed 10, Sat 13
        assert weekly[0]["distance_m"] == 20_000 + 20_300 + 20_600
        rows = totals.fitness_rows(cur, athlete, date(2024, 2, 1), date(2024, 3, 1), today=date(2024, 6, 1))
        frame = dashboard.fitness(cur, athlete, date(2024, 2, 1), date(2024, 3, 1), today=date(2024, 6, 1))
        assert [r["date"] for r in rows] == list(frame["date"]) and rows[0]["date"] == date(2024, 2, 1)
        assert np.allclose([r["ctl"] for r in rows], frame["ctl"]) and rows[0]["ctl"] > 0  # history before Feb counts
    finally:
        db.close()


def test_the_command_table_names_the_module_that_registers_each_command():
    import argparse
    import importlib
    import pkgutil

    import core.commands as commands

    registered = {}
    for module in pkgutil.iter_modules(commands.__path__):
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers(dest="command")
        importlib.import_module(f"core.commands.{module.name}").register(subparsers)
        registered |= dict.fromkeys(subparsers.choices, module.name)
    assert commands.MODULE_OF == registered


@pytest.mark.parametrize(("argv", "word"), [
    (["athletes"], "athletes"), (["--db", "rides", "metrics", "weekly"], "metrics"), (["--athlete", "2", "-v", "ride", "3"], "ride"),
    (["--db=x.duckdb", "rides"], "rides"), (["-v"], None), ([], None), (["--", "plan"], "plan")])
def test_the_command_word_skips_options_and_their_values(argv, word):
    from core.cli import command_word

    assert command_word(argv) == word


def test_a_run_builds_only_its_command_yet_help_and_mistakes_see_them_all():
    from core.cli import build_parser

    def commands(parser):
        return set(parser._subparsers._group_actions[0].choices)

    everything = commands(build_parser())
    assert commands(build_parser(["--db", "x.duckdb", "ride", "3"])) == {"rides", "ride"}
    assert commands(build_parser(["-h", "ride"])) == everything
    assert commands(build_parser(["rdes"])) == everything  # argparse then names every choice


def test_importing_a_ride_loads_no_arrow_pandas_or_scipy(db_path):
    """An import's memory is bounded (issue 17: a 250k-point GPX within 150 MiB of the command line's own): its
    path holds the libraries it needs and no more; samples and points go to DuckDB as numpy columns."""
    gpx = ROOT / "tests" / "data" / "rides" / "sweatpy__activity_4078723797.gpx"
    commands = [["import", str(FIT), "--json"], ["import", str(gpx), "--json"]]
    heavy = ["pyarrow", "pandas", "scipy", "plotly", "folium", "streamlit"]
    result = subprocess.run([sys.executable, "-c", PROBE, str(db_path), json.dumps(commands), json.dumps(heavy)],
                            cwd=ROOT, check=True, capture_output=True, text=True)
    assert json.loads(result.stdout) == {" ".join(argv): [0, []] for argv in commands}


def test_fitness_json_lines_are_what_json_dumps_writes_for_each_day(db_path):
    from core.cli import dumps
    from core.commands.metrics import FITNESS_KEYS, fitness_json_lines, metrics_rows

    db = connect(db_path)
    try:
        cur = db.cursor()
        athlete = cur.execute("INSERT INTO athletes (name) VALUES ('A') RETURNING id").fetchone()[0]
        with transaction(cur):
            for i in range(0, 60, 2):
                insert_ride(cur, athlete, date(2024, 1, 1) + timedelta(days=i), 37.123456 + i)
        rows = metrics_rows(cur, athlete, "fitness", None, date(2024, 3, 10))
        assert len(rows) == 70 and rows[0]["ctl"] > 0 and rows[1]["tss"] == 0.0
        # Every shape a day can take: a value that is not finite, a projected day, a negative form, no TSS.
        rows += [{"date": "2024-03-11", "ctl": None, "atl": 1e-07, "tsb": -0.0, "ramp": -12.5, "tss": None,
                  "projected": True}]
        expected = "".join(f"{dumps(row)}\n" for row in rows)
        assert fitness_json_lines([tuple(row[k] for k in FITNESS_KEYS) for row in rows]) == expected
    finally:
        db.close()


def test_a_command_line_run_ends_at_once_yet_writes_back_everything_it_changed(db_path):
    """`python -m core` ends with os._exit and leaves a database with nothing to write back to the process's end;
    a command that wrote closes it first, so no write-ahead log stays behind for the next start to take for a crash,
    and what it wrote is in the file."""
    wal = db_path.with_name(db_path.name + ".wal")

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "core", "--db", str(db_path), *argv], cwd=ROOT,
                              capture_output=True, text=True, check=True)

    run("import", str(FIT))  # creates the file (migrations), an athlete and a ride: all written back
    assert not wal.exists()
    listed = run("rides", "--json")  # a read: left for the process's end
    assert not wal.exists() and listed.stderr == ""
    assert [ride["id"] for ride in json.loads(listed.stdout)["rides"]] == [1]
    run("rules", "add", "no intervals on Mondays")  # a small write after the reads
    assert not wal.exists()
    db = connect(db_path)
    try:
        assert db.cursor().execute("SELECT count(*) FROM rides").fetchone() == (1,)
        assert len(db.cursor().execute("SELECT * FROM rules").fetchall()) == 1
    finally:
        db.close()
    # the output of a long read reaches a pipe whole before the process ends
    lines = subprocess.run(f"{sys.executable} -m core --db {db_path} metrics fitness --json | wc -l", shell=True,
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert int(lines) > 2000
