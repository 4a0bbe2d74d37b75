"""``python -m core [--db PATH] [--athlete ID] COMMAND``.

Exit codes: 0 success, 1 a failed operation (one-line reason on stderr), 2 a usage error.
Each module in core/commands/ exposes ``register(subparsers)``; a sub-command sets ``handler(args, ctx)``.

While the app runs it holds the database file: a command then goes to the app (core.relay), which runs the same
handler on its own connection. A command reaches the rider's files only through ``ctx.files`` and declares
them on its parser: ``set_defaults(local_inputs=("files",), local_outputs=("out",), default_output=(".zip",),
prompts=True, needs_db=False)`` (see core.relay.files.NamedFiles).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.config import load_settings
from core.errors import ConfigError, DatabaseLockedError, VeloCoachError
from core.relay.files import LocalFiles, read_secret
from core.store.db import Database, connect

__all__ = ["Context", "build_parser", "date_arg", "dumps", "execute", "json_default", "main", "read_secret"]

log = logging.getLogger("velocoach.cli")


def json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    from decimal import Decimal  # here: few commands meet one

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def date_arg(text: str) -> date:
    """An argparse type for YYYY-MM-DD (a usage error, exit 2, otherwise)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


# One encoder for the process: json.dumps with options builds a new one per call, a good part of printing a
# ten-year daily series line by line.
_ENCODER = json.JSONEncoder(default=json_default, ensure_ascii=False)


def dumps(value) -> str:
    return _ENCODER.encode(value)


@dataclass
class Context:
    """What a handler works with: the database, the athlete option and ``files`` (the rider's files: this
    process's in a direct run, the command line's when the app runs a forwarded command)."""

    db_path: Path
    athlete_option: int | None = None
    files: Any = field(default_factory=LocalFiles)
    # The running app's own connection for a forwarded command; None: this process opens db_path itself.
    open_db: Callable[[], Database] | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = self.open_db() if self.open_db is not None else connect(self.db_path)
        return self._db

    def open(self) -> Database:
        return self.db

    @property
    def cur(self):
        return self.db.cursor()

    def athlete_id(self) -> int:
        """--athlete, else the first athlete, else a new default athlete (so imports work on a new file)."""
        from core.athletes import create_athlete, first_athlete_id, get_athlete

        if self.athlete_option is not None:
            return get_athlete(self.cur, self.athlete_option)["id"]
        existing = first_athlete_id(self.cur)
        if existing is not None:
            return existing
        from core.athletes.profile import AthleteProfile  # only a new file: reading needs no pydantic

        return create_athlete(self.cur, AthleteProfile(name="Rider"))

    @staticmethod
    def dumps(value) -> str:
        return dumps(value)

    def print_json(self, value) -> None:
        print(dumps(value))

    def print_json_lines(self, values) -> None:
        """One JSON object per line, written at once."""
        sys.stdout.write("".join(f"{dumps(value)}\n" for value in values))

    def close(self, *, process_ends: bool = False) -> None:
        """Close this run's database. ``process_ends`` (``python -m core``, which exits at once): a database with
        nothing in its write-ahead log is left for the process's end to release, as DuckDB's close costs a light
        command ~5 ms and there is nothing to write back (every write committed and checkpointed)."""
        if self._db is None:
            return
        if self.open_db is None:
            if process_ends and not self._db.has_log():
                return
            self._db.close()
        else:  # the app's connection outlives the command; the worker thread's cursor does not
            self._db.release_cursor()


# Options before the command that take a value: the word after them is not the command.
_VALUED_OPTIONS = ("--db", "--athlete")


def command_word(argv: list[str]) -> str | None:
    """The command ``argv`` runs (the first word that is neither an option nor an option's value), or None."""
    words = iter(argv)
    for word in words:
        if word in _VALUED_OPTIONS:
            next(words, None)
        elif word == "--":
            return next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given ``argv``, only the module of the command it runs registers (the start of
    a light command); without it, or for a word no module registers, every module does (help, errors)."""
    parser = argparse.ArgumentParser(prog="python -m core", description="VeloCoach command line")
    parser.add_argument("--db", type=Path, help="database file (default: VELOCOACH_DB or data/velocoach.duckdb)")
    parser.add_argument("--athlete", type=int, help="athlete id (default: the first athlete)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    import core.commands as commands_pkg

    only = commands_pkg.MODULE_OF.get(command_word(argv)) if argv is not None else None
    if only and not {"-h", "--help"} & set(argv[: argv.index(command_word(argv))]):
        names = [only]
    else:
        import pkgutil  # here: help and mistakes only (a light command's start skips it)

        names = sorted(m.name for m in pkgutil.iter_modules(commands_pkg.__path__))
    for name in names:
        importlib.import_module(f"core.commands.{name}").register(subparsers)
    return parser


class _OneLine(logging.Formatter):
    """The console gets one line per record; tracebacks go to the log file only."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        record.exc_info = record.exc_text = None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text = saved


def execute(args, ctx: Context, handler: Callable[[Any, Context], int | None] | None = None) -> int:
    """Run the parsed command (``handler``, default ``args.handler``); its exit code. Errors become one line on
    stderr, the same in a direct run and in the app running a forwarded command."""
    try:
        code = int((handler or args.handler)(args, ctx) or 0)
        sys.stdout.flush()  # inside the try: a reader that has gone (`| head`) is found here, not at exit
        return code
    except BrokenPipeError:
        raise  # the reader stopped reading: main() ends quietly
    except VeloCoachError as exc:
        log.info("%s: %s", args.command, exc)  # the rider's own mistakes are not problems of the app
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 — one line, never a traceback (the log file has it)
        log.error("unexpected failure in %s", args.command, exc_info=True)
        print(f"error: unexpected failure ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None, *, process_ends: bool = False) -> int:
    """Run one command; its exit code. ``process_ends``: the caller exits right after (see Context.close)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)  # exits 2 on a usage error
    console = logging.StreamHandler()
    console.setFormatter(_OneLine("%(levelname)s %(name)s: %(message)s"))
    console.setLevel(logging.INFO if args.verbose else logging.WARNING)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, handlers=[console])
    ctx = Context(Path(), args.athlete)

    def open_then_run(args, ctx: Context) -> int | None:
        settings = load_settings(db_path=args.db)
        from core.logs import setup_logging

        setup_logging(settings)  # the rotating file in the data folder (the Health page reads it)
        feature = getattr(args, "feature", None)
        if feature and not settings.feature(feature):
            raise ConfigError(f"{feature.replace('_', ' ').capitalize()} is switched off (VELOCOACH_FEATURES); "
                              f"remove -{feature} from it to use this command")
        ctx.db_path = settings.db_path
        if getattr(args, "needs_db", True):
            try:
                ctx.open()  # now: a database the running app holds is known before the command starts
            except DatabaseLockedError as locked:
                from core.relay.client import forward

                return forward(argv, args, settings, locked)
        return args.handler(args, ctx)

    try:
        return execute(args, ctx, open_then_run)
    except BrokenPipeError:
        # `python -m core rides --json | head -1`: stop quietly, as Unix tools do; stdout goes to /dev/null so
        # the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        ctx.close(process_ends=process_ends)
