"""Owner-only files: the process umask, atomic 0600 writes, and reads that refuse files others could have read
or planted (wrong owner, group/other bits, symlinks)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

OWNER_ONLY_UMASK = 0o077


def set_owner_only_umask() -> None:
    """Every file this process creates from now on (DuckDB file and .wal, backups, tokens, logs) is 0600 and every
    folder 0700. Process-wide and inherited by threads; call it first thing in each entry point."""
    os.umask(OWNER_ONLY_UMASK)


def file_mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def write_private_file(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Atomically replace ``path`` with ``data``, mode 0600 from its first byte, in a 0700 folder if new.
    ``durable``: on disk before it replaces the old file (not needed for what can be made again, like a cache)."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.write(fd, data)
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, path)


def read_private_file(path: Path, limit: int = 1_000_000) -> bytes:
    """The file's bytes (at most ``limit``), only if it is a regular file (not a symlink) owned by this user and
    closed to others.

    Raises FileNotFoundError when absent and PermissionError (naming the problem) otherwise."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PermissionError(f"{path} is not a regular file")
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise PermissionError(f"{path} belongs to another user")
        if info.st_mode & 0o077:
            raise PermissionError(f"{path} is open to other users (mode {stat.filemode(info.st_mode)}); "
                                  f"run: chmod 600 {path}")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit)
    finally:
        os.close(fd)


def load_or_create_secret(path: Path, nbytes: int = 32) -> bytes:
    """A random secret kept in an owner-only file (made on first use)."""
    try:
        value = read_private_file(path)
        if len(value) >= 16:
            return value
    except FileNotFoundError:
        pass
    value = os.urandom(nbytes)  # what secrets.token_bytes returns (its import is a light command's 3 ms)
    write_private_file(path, value)
    return value
