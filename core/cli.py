"""``python -m core [--db PATH] [--athlete ID] COMMAND``.

Exit codes: 0 success, 1 a failed operation (one-line reason on stderr), 2 a usage error.
Each module in core/commands/ exposes ``register(subparsers)``; a sub-command sets ``handler(args, ctx)``.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import json
import logging
import os
import pkgutil
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from core.config import load_settings
from core.errors import VeloCoachError
from core.store.db import Database, connect

log = logging.getLogger("velocoach.cli")


def json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_secret(prompt: str) -> str:
    """A password from a hidden prompt, or one line of stdin when it is not a terminal; never an argument."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\n")


def read_line(prompt: str) -> str:
    """One line typed by the rider (the prompt on stderr, so --json output stays clean); '' at end of input."""
    print(prompt, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().rstrip("\n")


def date_arg(text: str) -> date:
    """An argparse type for YYYY-MM-DD (a usage error, exit 2, otherwise)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def dumps(value) -> str:
    return json.dumps(value, default=json_default, ensure_ascii=False)


@dataclass
class Context:
    db_path: Path
    athlete_option: int | None = None
    _db: Database | None = field(default=None, repr=False)

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = connect(self.db_path)
        return self._db

    @property
    def cur(self):
        return self.db.cursor()

    def athlete_id(self) -> int:
        """--athlete, else the first athlete, else a new default athlete (so imports work on a new file)."""
        from core.athletes import AthleteProfile, create_athlete, first_athlete_id, get_athlete

        if self.athlete_option is not None:
            return get_athlete(self.cur, self.athlete_option)["id"]
        existing = first_athlete_id(self.cur)
        if existing is not None:
            return existing
        return create_athlete(self.cur, AthleteProfile(name="Rider"))

    @staticmethod
    def dumps(value) -> str:
        return dumps(value)

    def print_json(self, value) -> None:
        print(dumps(value))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="VeloCoach command line")
    parser.add_argument("--db", type=Path, help="database file (default: VELOCOACH_DB or data/velocoach.duckdb)")
    parser.add_argument("--athlete", type=int, help="athlete id (default: the first athlete)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    import core.commands as commands_pkg

    for module_info in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"core.commands.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ctx = None
    try:
        settings = load_settings(db_path=args.db)
        ctx = Context(settings.db_path, args.athlete)
        result = args.handler(args, ctx)
        sys.stdout.flush()  # inside the try: a reader that has gone (`| head`) is handled below, not at exit
        return int(result or 0)
    except BrokenPipeError:
        # The reader stopped reading (`python -m core rides --json | head -1`): stop quietly, as Unix tools do.
        # stdout goes to /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except VeloCoachError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 — one line, never a traceback; details with -v
        log.debug("unexpected failure", exc_info=True)
        print(f"error: unexpected failure ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    finally:
        if ctx is not None:
            ctx.close()
