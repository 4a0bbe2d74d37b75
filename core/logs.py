"""The log: one rotating file in the data folder (``logs/velocoach.log``, owner-only, 5 × 1 MB), at the level
VELOCOACH_ENV sets, with secrets masked before anything is written; and the recent warnings and errors read back
for the Health page and ``python -m core health``. Never the database."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from core.config import Settings

LOG_NAME = "velocoach.log"
MAX_BYTES = 1024 * 1024
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Patterns, compiled (and cached by re) at their first use: a command that logs nothing never needs them.
_LINE = r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}),\d+ (WARNING|ERROR|CRITICAL) ([\w.]+): (.*)$"
_KEY = r"(sk-[A-Za-z0-9_\-]{3})[A-Za-z0-9_\-*]{4,}"
_HANDLER_NAME = "velocoach-file"


def log_path(settings: Settings) -> Path:
    return settings.files_dir / "logs" / LOG_NAME


class _Scrub(logging.Filter):
    """Masks the configured AI key and anything shaped like an API key in every record."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = text
        for secret in self.secrets:
            clean = clean.replace(secret, "***")
        clean = re.sub(_KEY, r"\1***", clean)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


class _RotatingOwnerOnly(logging.Handler):
    """The rotating owner-only file, opened at the first record: most commands log nothing, and
    logging.handlers is a fair part of a light command's start (issue 17)."""

    def __init__(self, path: Path):
        super().__init__()
        self.baseFilename = str(path.resolve())
        self._file: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._file is None:
            from logging.handlers import RotatingFileHandler

            class OwnerOnly(RotatingFileHandler):
                def _open(self):
                    stream = super()._open()
                    os.chmod(self.baseFilename, 0o600)
                    return stream

            try:
                self._file = OwnerOnly(self.baseFilename, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
            except OSError:
                self.handleError(record)
                return
            self._file.setFormatter(self.formatter)
        self._file.emit(record)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


def setup_logging(settings: Settings, *, console: bool = False) -> Path | None:
    """Send VeloCoach's log to the rotating file (once per process; the level follows VELOCOACH_ENV). Returns the
    file, or None when the data folder cannot be written (the app then logs to the console only)."""
    root = logging.getLogger()
    level = getattr(logging, settings.log_level)
    path = log_path(settings)
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            if Path(handler.baseFilename) == path.resolve():
                handler.setLevel(level)
                return path
            root.removeHandler(handler)  # another data folder (tests, a second --db): follow the settings
            handler.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        if path.exists() and not os.access(path, os.W_OK):
            raise OSError(f"{path} is not writable")
        handler = _RotatingOwnerOnly(path)
    except OSError:
        logging.getLogger(__name__).warning("cannot write the log file in %s", path.parent)
        return None
    handler.set_name(_HANDLER_NAME)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT))
    secret = settings.ai_api_key.get_secret_value() if settings.ai_api_key else ""
    handler.addFilter(_Scrub([secret]))
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    if console:
        logging.getLogger("velocoach").setLevel(level)
    return path


def recent_problems(settings: Settings, limit: int = 50, *, tail_bytes: int = 512 * 1024) -> list[dict]:
    """The newest warnings and errors of the log (newest first): {"at", "level", "logger", "message"}. Lines of a
    traceback are left out (the log keeps them)."""
    path = log_path(settings)
    found: list[dict] = []
    for candidate in (path, path.with_name(LOG_NAME + ".1")):
        if not candidate.is_file():
            continue
        with candidate.open("rb") as handle:
            size = candidate.stat().st_size
            handle.seek(max(0, size - tail_bytes))
            text = handle.read().decode("utf-8", "replace")
        lines = text.splitlines()[1:] if size > tail_bytes else text.splitlines()
        for line in reversed(lines):
            match = re.match(_LINE, line)
            if match:
                found.append({"at": match.group(1), "level": match.group(2), "logger": match.group(3),
                              "message": re.sub(_KEY, r"\1***", match.group(4))[:500]})
                if len(found) >= limit:
                    return found
    return found
