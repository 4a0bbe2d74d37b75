"""Answers of the read-only light commands (``athletes``, ``rides``, ``ride ID``, ``metrics …``, ``compare``), kept
beside the database so that asking again, with nothing changed, is a file read: no DuckDB to import or open.

An answer is the command's exact standard output, stored under a key of everything the output depends on: the
command line as typed, the database file and its write-ahead log as the file system sees them (device, inode, size,
modification and change times: every committed write changes one), today's date, the settings (secrets masked)
and the code (VeloCoach's files). Any change is a miss and the command runs as before; the old answers of that
database are then deleted, and so are all of them when the data changes (``forget``, called by every change of
aggregated data), so a deleted ride does not live on here.

Only a clean run is kept: exit code 0, nothing on standard error, the whole output written, the database files
unchanged by the run and last changed more than ``SETTLED_S`` ago (a file system stamps times in coarse ticks: a
write in the same tick as the last one could otherwise leave the stamps as they were, the "racy git" problem).
``VELOCOACH_ANSWERS=0`` (setting ``keep_answers``) switches it off. This runs before anything else is imported:
the standard library only, and core.access.private_files to read an answer.
"""

from __future__ import annotations

import os
import sys
import time

# Commands whose output depends on nothing but the database, the date, the settings and the code.
COMMANDS = frozenset({"athletes", "rides", "ride", "metrics", "compare"})
# Options of ``python -m core`` that may come before the command (anything else there, an abbreviation or -v
# included, is not answered from here: it could name another database or ask for logging).
_VALUED = ("--db", "--athlete")
SETTLED_S = 2.0
# What beside the database shapes the output (never a secret: the AI key is not among them).
_ENVIRONMENT = ("TZ", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONIOENCODING", "PYTHONUTF8")
_CODE = os.path.dirname(os.path.abspath(__file__))
# As core.config has them (checked by tests/test_answers.py).
_SECRETS_FILE = os.path.join(os.path.dirname(_CODE), ".streamlit", "secrets.toml")
_DEFAULT_DB = os.path.join(os.path.dirname(_CODE), "data", "velocoach.duckdb")
_SECRET_VARIABLES = ("VELOCOACH_AI_KEY", "OPENAI_API_KEY")
_KEPT = 64  # answers kept per folder at most (oldest go first)
_LARGEST = 32 << 20  # characters: a larger answer (a huge page of rides) is not worth keeping


def folder_of(db_path) -> str:
    """The folder of a database's answers, beside it (as DuckDB's .wal is)."""
    return os.fspath(db_path) + ".answers"


def _file_state(path: str) -> tuple:
    try:
        s = os.stat(path)
    except FileNotFoundError:
        return ()
    return s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns


def _code_state() -> tuple:
    """VeloCoach's code and data files (count, total size, newest change) and the folders Python imports from (a
    package installed, upgraded or removed changes its folder): an upgrade or an edit is a miss."""
    count = size = newest = 0
    pending = [_CODE]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        pending.append(entry.path)
                elif entry.name.endswith((".py", ".sql", ".toml", ".json")):
                    s = entry.stat(follow_symlinks=False)
                    count, size, newest = count + 1, size + s.st_size, max(newest, s.st_mtime_ns, s.st_ctime_ns)
    return count, size, newest, [_file_state(folder) for folder in sys.path if folder]


def _database_option(argv: list[str]) -> tuple[str | None, str | None] | None:
    """(--db value, the command word) if ``argv`` is ``[--db X] [--athlete N] COMMAND …`` with a command answered
    here; None otherwise."""
    db = None
    words = iter(argv)
    for word in words:
        name, equals, value = word.partition("=")
        if name in _VALUED:
            if not equals:
                value = next(words, None)
                if value is None:
                    return None
            if name == "--db":
                db = value
        elif word.startswith("-"):
            return None
        else:
            return (db, word) if word in COMMANDS and not {"-h", "--help"} & set(argv) else None
    return None


class Pending:
    """One command's key, taken before it runs; ``replay`` answers it, or ``record`` then ``store`` keep it."""

    def __init__(self, folder: str, db_path: str, before: tuple, state: str, key: str) -> None:
        self.folder, self.db_path, self.state, self.key = folder, db_path, state, key
        self._before = before
        self._written: list[str] = []
        self._clean = True
        self._streams = None

    @property
    def file(self) -> str:
        return os.path.join(self.folder, f"{self.state}-{self.key}.txt")

    def _database_state(self) -> tuple:
        return _file_state(self.db_path), _file_state(self.db_path + ".wal")

    def replay(self) -> bool:
        """Write the kept answer to standard output; False (nothing written) if there is none."""
        from core.access.private_files import read_private_file

        try:  # only our own closed file: not one another user planted or could have read
            text = read_private_file(self.file, limit=_LARGEST).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        try:
            sys.stdout.write(text)  # encoded whole before a byte is written: an encoding error writes nothing
            sys.stdout.flush()
        except UnicodeEncodeError:
            return False
        except BrokenPipeError:  # `… | head`: the reader has gone, as a command's own run ends quietly then
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return True

    def record(self) -> None:
        """From now on, keep a copy of what the command writes to standard output, and note any standard error."""
        self._streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Copy(sys.stdout, self), _Copy(sys.stderr, self, copy=False)

    def store(self, code: int) -> None:
        """Keep the recorded output as the answer if the run was clean (see the module's docstring)."""
        if self._streams is not None:
            sys.stdout, sys.stderr = self._streams
        before = self._before
        if code != 0 or not self._clean or not before[0] or self._database_state() != before:
            return
        # The modification time alone: a later write stamps a later one once a tick has passed (the change time,
        # in the key, also moves when a file is merely touched).
        changed = max(state[3] for state in before if state)
        if time.time_ns() - changed < SETTLED_S * 1e9:
            return
        if sum(map(len, self._written)) >= _LARGEST:
            return
        from core.access.private_files import write_private_file

        try:
            os.makedirs(self.folder, mode=0o700, exist_ok=True)
            _drop_stale(self.folder, self.state)
            write_private_file(self.file, "".join(self._written).encode("utf-8"), durable=False)
        except OSError:  # a read-only or full disk: the command answered; it is just not kept
            pass


class _Copy:
    """A text stream that passes everything to ``stream``; copies it (``copy``) or notes that it was written."""

    def __init__(self, stream, pending: Pending, *, copy: bool = True) -> None:
        self._stream, self._pending, self._copy = stream, pending, copy

    def write(self, text: str) -> int:
        try:
            written = self._stream.write(text)
        except BaseException:
            self._pending._clean = False  # a reader that went away (`| head`): the output is not whole
            raise
        if self._copy:
            self._pending._written.append(text)
        elif text:
            self._pending._clean = False
        return written

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BaseException:
            self._pending._clean = False
            raise

    def __getattr__(self, name):
        if name == "buffer":  # bytes written past the copy: not an answer to keep
            self._pending._clean = False
        return getattr(self._stream, name)


def _drop_stale(folder: str, state: str) -> None:
    """Delete the answers of another state of the database (older data, another day, other code), and the oldest
    beyond ``_KEPT``."""
    kept = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.startswith(state + "-"):
                _remove(entry.path)
            else:
                kept.append(entry)
    for entry in sorted(kept, key=lambda e: e.stat().st_mtime_ns)[: max(0, len(kept) - _KEPT + 1)]:
        _remove(entry.path)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def forget(db_path) -> None:
    """Delete every kept answer of the database at ``db_path`` (its data changed, or was deleted)."""
    folder = folder_of(db_path)
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                _remove(entry.path)
    except OSError:  # no folder: nothing kept
        pass


def _settings_inputs(option: str | None, environ) -> tuple[str, tuple] | None:
    """(the database's path, what the settings are made of) without building them (core.config's import is a
    sixth of an answered command): the usual case, with no secrets file and answers not switched by the
    environment. None otherwise (``prepare`` then asks load_settings). tests/test_answers.py checks the path
    against load_settings'."""
    if environ.get("VELOCOACH_ANSWERS") or os.path.exists(_SECRETS_FILE):
        return None
    db = option if option is not None else (environ.get("VELOCOACH_DB") or _DEFAULT_DB)
    # Every VeloCoach variable shapes the settings; of a secret, only whether it is there enters the key.
    inputs = tuple(sorted((name, "(set)" if name in _SECRET_VARIABLES else value) for name, value in environ.items()
                          if name.startswith("VELOCOACH_") or name in _SECRET_VARIABLES))
    return db, inputs


def prepare(argv: list[str], environ=None) -> Pending | None:
    """The pending answer of ``python -m core ARGV``, or None if it is not one answered here."""
    environ = os.environ if environ is None else environ
    parsed = _database_option(argv)
    if parsed is None:
        return None
    known = _settings_inputs(parsed[0], environ)
    if known is None:
        from core.config import load_settings
        from core.errors import VeloCoachError

        try:
            settings = load_settings(environ, db_path=parsed[0])
        except VeloCoachError:  # the command reports it
            return None
        if not settings.keep_answers:
            return None
        known = os.fspath(settings.db_path), repr(settings)  # its repr masks the secrets
    db_path = os.path.abspath(os.path.expanduser(known[0]))
    before = _file_state(db_path), _file_state(db_path + ".wal")
    # Today as the commands take it (date.today(): the computer's zone); were days cut in the rider's zone, that
    # zone's date would have to enter the key instead.
    state = _digest((db_path, before, time.strftime("%Y-%m-%d"), known[1], [environ.get(name) for name in _ENVIRONMENT],
                     _code_state(), sys.version_info[:2]))
    return Pending(folder_of(db_path), db_path, before, state, _digest(argv))


def _digest(value) -> str:
    try:  # hashlib's own import loads OpenSSL (2 ms) for a hash it takes from here anyway
        from _blake2 import blake2b
    except ImportError:  # another Python than CPython
        from hashlib import blake2b
    return blake2b(repr(value).encode(), digest_size=12).hexdigest()
