"""`python -m core garmin login|accounts|logout` and `sync-garmin`, in a subprocess, against the fake Garmin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.garmin_server import FakeGarmin, cycling_activities

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake():
    with FakeGarmin(mfa_code="135790", activities=cycling_activities(4)) as server:
        yield server


@pytest.fixture
def cli(tmp_path, fake):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "VELOCOACH"))}
    env.update(fake.env(), VELOCOACH_DB=str(tmp_path / "cli.duckdb"), VELOCOACH_DATA_DIR=str(tmp_path / "files"),
               VELOCOACH_ENV="test", VELOCOACH_SEED_DEMO="0")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, input=stdin,
                              capture_output=True, text=True, timeout=120)

    return run


def test_login_with_mfa_from_stdin_then_sync_then_an_up_to_date_sync(cli, fake):
    login = cli("garmin", "login", "--email", fake.email, "--label", "Edge", "--json",
                stdin=f"{fake.password}\n135790\n")
    assert login.returncode == 0, login.stderr
    assert json.loads(login.stdout)["label"] == "Edge"
    assert fake.password not in login.stdout + login.stderr

    accounts = cli("garmin", "accounts", "--json")
    assert [(a["label"], a["signed_in"]) for a in json.loads(accounts.stdout)] == [("Edge", True)]

    first = cli("sync-garmin", "--since", "2024-04-01", "--json")
    assert first.returncode == 0, first.stderr
    [report] = json.loads(first.stdout)
    assert (report["account"], report["status"], report["imported"]) == ("Edge", "ok", 4)

    fake.requests.clear()
    again = cli("sync-garmin", "--account", "Edge")
    assert again.returncode == 0, again.stderr
    assert "Edge: ok, 0 new" in again.stdout
    assert len(fake.requests) == 1


def test_revoked_tokens_exit_1_with_the_sign_in_again_message(cli, fake):
    assert cli("garmin", "login", "--email", fake.email, stdin=f"{fake.password}\n135790\n").returncode == 0
    fake.revoke_tokens()
    result = cli("sync-garmin")
    assert result.returncode == 1
    assert "Garmin: Garmin Connect signed you out: sign in again" in result.stderr
    assert "Traceback" not in result.stderr


def test_sync_without_an_account_and_logout_explain_what_to_do(cli, fake):
    result = cli("sync-garmin")
    assert result.returncode == 1 and "garmin login" in result.stderr
    assert cli("garmin", "login", "--email", fake.email, stdin=f"{fake.password}\n135790\n").returncode == 0
    logout = cli("garmin", "logout", "--account", "Garmin")
    assert logout.returncode == 0 and "tokens are deleted" in logout.stdout
    assert json.loads(cli("garmin", "accounts", "--json").stdout)[0]["signed_in"] is False


def test_a_wrong_password_exits_1_and_the_password_is_not_an_argument(cli, fake):
    result = cli("garmin", "login", "--email", fake.email, stdin="wrong password\n")
    assert result.returncode == 1 and "refused the e-mail or password" in result.stderr
    usage = cli("garmin", "login", "--email", fake.email, "--password", "x")
    assert usage.returncode == 2
