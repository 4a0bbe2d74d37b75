"""The local owner account: one password, hashed with argon2 (argon2-cffi), in an owner-only file in the data
folder. Never in the database, so never in a backup or an export.

Sign-in is "configured" when that file holds a hash. ``OwnerFile`` re-reads it when it changes on disk, so a
password set, changed or removed with ``python -m core owner ...`` applies to a running app at once (a change of
password also ends every session: sessions are signed with a key derived from the hash, see sessions.py).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.access.private_files import read_private_file, write_private_file
from core.errors import ConfigError, ValidationError

PASSWORD_FILE = "owner-password.json"
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024  # argon2 would hash a megabyte happily: a bound keeps a login POST cheap to refuse


def password_file(files_dir: Path) -> Path:
    return Path(files_dir) / PASSWORD_FILE


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4: ~130 ms on a 2-core machine


def check_new_password(password: str) -> None:
    """Raises ValidationError with the rider's sentence for a password too weak or too long to accept."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(f"The password needs at least {MIN_PASSWORD_CHARS} characters.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValidationError(f"The password may have at most {MAX_PASSWORD_CHARS} characters.")
    if password != password.strip() or any(ord(c) < 32 for c in password):
        raise ValidationError("The password may not start or end with spaces or hold control characters.")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True only for the right password; a wrong one, an empty one or a damaged hash is simply False."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    if not password or len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_password(files_dir: Path, password: str) -> Path:
    """Hash and store the owner's password (replacing any previous one). Returns the file written."""
    check_new_password(password)
    path = password_file(files_dir)
    record = {"format": 1, "password_hash": hash_password(password),
              "set_at": datetime.now(UTC).isoformat(timespec="seconds")}
    write_private_file(path, json.dumps(record).encode())
    return path


def remove_password(files_dir: Path) -> bool:
    """Turn sign-in off. True when there was a password."""
    try:
        password_file(files_dir).unlink()
        return True
    except FileNotFoundError:
        return False


@dataclass(frozen=True)
class OwnerStatus:
    password_set: bool
    set_at: str | None
    path: Path


def read_password_hash(files_dir: Path) -> tuple[str, str | None] | None:
    """(hash, set_at) or None when no password is set. A damaged or exposed file is a ConfigError naming it."""
    path = password_file(files_dir)
    try:
        record = json.loads(read_private_file(path))
    except FileNotFoundError:
        return None
    except PermissionError as exc:
        raise ConfigError(f"The owner password file cannot be trusted: {exc}") from None
    except ValueError:
        raise ConfigError(f"The owner password file {path} is damaged: set the password again.") from None
    value = record.get("password_hash") if isinstance(record, dict) else None
    if not isinstance(value, str) or not value.startswith("$argon2"):
        raise ConfigError(f"The owner password file {path} is damaged: set the password again.")
    return value, record.get("set_at")


def owner_status(files_dir: Path) -> OwnerStatus:
    found = read_password_hash(files_dir)
    return OwnerStatus(found is not None, found[1] if found else None, password_file(files_dir))


class OwnerFile:
    """The current password hash, re-read when the file changes (checked at most once a second)."""

    def __init__(self, files_dir: Path, check_every_s: float = 1.0) -> None:
        self.path = password_file(files_dir)
        self._files_dir = Path(files_dir)
        self._check_every_s = check_every_s
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._stamp: tuple | None = ("unread",)
        self._hash: str | None = None

    def password_hash(self) -> str | None:
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < self._check_every_s:
                return self._hash
            self._checked_at = now
            try:
                info = os.stat(self.path)
                stamp = (info.st_ino, info.st_mtime_ns, info.st_size, info.st_mode)
            except FileNotFoundError:
                stamp = None
            if stamp != self._stamp:
                found = read_password_hash(self._files_dir) if stamp is not None else None
                self._hash = found[0] if found else None
                self._stamp = stamp
            return self._hash
