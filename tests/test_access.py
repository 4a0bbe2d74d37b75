"""core.access: allowed hosts and origins, owner-only files, the owner password, sessions and the sign-in limit."""

from __future__ import annotations

import json
import time

import pytest

from core.access.network import host_is_allowed, is_loopback, is_wildcard, origin_matches_host
from core.access.owner import (
    OwnerFile,
    owner_status,
    password_file,
    read_password_hash,
    remove_password,
    set_password,
    verify_password,
)
from core.access.private_files import file_mode, load_or_create_secret, read_private_file, write_private_file
from core.access.sessions import FailureLimiter, Sessions
from core.errors import ConfigError, ValidationError

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1:8501", True), ("[::1]:8501", True), ("localhost", True), ("app.localhost:1", True),
    ("192.0.2.7:8501", True), ("velocoach.lan:8501", True), ("a.home.example", True), ("home.example", False),
    ("evil.test", False), ("127.0.0.1.nip.io", False), ("localhost.evil.test", False), ("", False), (None, False),
    ("a@127.0.0.1", False), ("127.0.0.1:99999", False), ("127.0.0.1/x", False), ("evil.test\r\nX: y", False),
    ("x" * 400, False),
])
def test_only_ip_addresses_localhost_and_configured_names_are_allowed_hosts(host, allowed):
    assert host_is_allowed(host, ("velocoach.lan", "*.home.example")) is allowed


def test_origin_must_be_exactly_this_host_and_port():
    assert origin_matches_host(None, "127.0.0.1:8501")  # not a browser
    assert origin_matches_host("http://127.0.0.1:8501", "127.0.0.1:8501")
    assert origin_matches_host("http://localhost", "localhost:80")
    assert origin_matches_host("https://velo.example", "velo.example")
    for origin in ("http://127.0.0.1:8502", "http://localhost:8501", "null", "http://evil.test",
                   "file://", "http://127.0.0.1:8501/path", "javascript:alert(1)"):
        assert not origin_matches_host(origin, "127.0.0.1:8501"), origin


def test_loopback_and_wildcard_addresses():
    assert all(is_loopback(a) for a in ("127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1", "localhost"))
    assert not any(is_loopback(a) for a in ("192.0.2.1", "0.0.0.0", "::", "", None, "evil.test"))
    assert all(is_wildcard(a) for a in (None, "", "0.0.0.0", "::"))
    assert not any(is_wildcard(a) for a in ("127.0.0.1", "192.0.2.1"))


def test_private_files_are_0600_and_a_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "new" / "token"
    write_private_file(path, b"secret")
    assert file_mode(path) == 0o600 and file_mode(path.parent) == 0o700
    assert read_private_file(path) == b"secret"
    path.chmod(0o644)
    with pytest.raises(PermissionError, match="open to other users"):
        read_private_file(path)
    link = tmp_path / "link"
    link.symlink_to(path)
    with pytest.raises(OSError):
        read_private_file(link)
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_secret_is_made_once_and_kept(tmp_path):
    first = load_or_create_secret(tmp_path / "s")
    assert len(first) == 32 and load_or_create_secret(tmp_path / "s") == first
    assert file_mode(tmp_path / "s") == 0o600


@pytest.mark.parametrize("weak", ["", "short", " leading spaces", "tab\tinside1", "x" * 1025])
def test_a_weak_or_absurd_password_is_refused_and_nothing_is_written(tmp_path, weak):
    with pytest.raises(ValidationError):
        set_password(tmp_path, weak)
    assert not password_file(tmp_path).exists()


def test_the_password_is_stored_as_an_argon2_hash_in_an_owner_only_file(tmp_path):
    path = set_password(tmp_path, PASSWORD)
    record = json.loads(path.read_text())
    assert file_mode(path) == 0o600
    assert record["password_hash"].startswith("$argon2id$") and PASSWORD not in path.read_text()
    stored, _ = read_password_hash(tmp_path)
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!") and not verify_password(stored, "")
    assert not verify_password("not a hash", PASSWORD)
    assert owner_status(tmp_path).password_set
    assert remove_password(tmp_path) and not owner_status(tmp_path).password_set and not remove_password(tmp_path)


def test_a_damaged_or_exposed_password_file_is_a_clear_error(tmp_path):
    set_password(tmp_path, PASSWORD)
    password_file(tmp_path).chmod(0o644)
    with pytest.raises(ConfigError, match="cannot be trusted"):
        read_password_hash(tmp_path)
    write_private_file(password_file(tmp_path), b'{"password_hash": "plain text"}')
    with pytest.raises(ConfigError, match="damaged"):
        read_password_hash(tmp_path)


def test_a_running_app_sees_a_password_set_changed_or_removed_at_once(tmp_path):
    owner = OwnerFile(tmp_path, check_every_s=0)
    assert owner.password_hash() is None
    set_password(tmp_path, PASSWORD)
    first = owner.password_hash()
    assert first and verify_password(first, PASSWORD)
    set_password(tmp_path, "another long password")
    assert owner.password_hash() not in (None, first)
    remove_password(tmp_path)
    assert owner.password_hash() is None


def test_sessions_expire_end_with_a_new_password_and_can_be_revoked():
    sessions = Sessions(b"k" * 32, max_age_s=3600)
    value = sessions.issue("hash-1")
    session = sessions.check(value, "hash-1")
    assert session is not None and session.expires_at - session.issued_at == 3600
    assert abs(session.issued_at - time.time()) < 5
    assert sessions.check(value, "hash-2") is None                       # password changed
    assert Sessions(b"k" * 32, max_age_s=-1).check(value, "hash-1") is None  # expired
    assert Sessions(b"other" * 8, max_age_s=3600).check(value, "hash-1") is None
    assert sessions.check(value[:-2] + "xx", "hash-1") is None          # tampered
    assert sessions.check(None, "hash-1") is None and sessions.check(value, None) is None
    sessions.revoke(value, "hash-1")
    assert sessions.check(value, "hash-1") is None
    assert sessions.check(sessions.issue("hash-1"), "hash-1") is not None


def test_failed_sign_ins_are_limited_per_client_and_overall():
    limiter = FailureLimiter(per_client=3, overall=5, window_s=60)
    for second in range(3):
        assert limiter.retry_after_s("a", now=second) == 0
        limiter.failed("a", now=second)
    assert limiter.retry_after_s("a", now=3) == pytest.approx(57)
    assert limiter.retry_after_s("b", now=3) == 0
    limiter.failed("b", now=3)
    limiter.failed("c", now=3)
    assert limiter.retry_after_s("d", now=4) == pytest.approx(56)  # five failures overall: everyone waits
    assert limiter.retry_after_s("a", now=61) == 0


def test_a_backup_never_holds_the_owner_password(cur, athlete_id):
    from core.config import load_settings
    from core.store.backup_export import export_backup

    files_dir = load_settings().files_dir
    set_password(files_dir, PASSWORD)
    stored, _ = read_password_hash(files_dir)
    for fmt in ("zip", "json"):
        data = export_backup(cur, athlete_id, fmt)
        assert stored.encode() not in data and b"argon2" not in data
