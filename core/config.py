"""Settings from environment variables and .streamlit/secrets.toml, validated once at start-up.

Precedence: environment variable > secrets.toml > default. Secrets (the AI key) live only in this object in
memory: they are never logged, written to the database or exported (``Settings.__repr__`` masks them).

A dataclass checked field by field rather than a pydantic model: every command and every app start builds the
settings first, and pydantic's import (~60 ms, a third of a light command's start, issue 17) bought nothing
fifteen plain checks cannot say as clearly.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from core.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_DIR / "data" / "velocoach.duckdb"
SECRETS_PATH = PROJECT_DIR / ".streamlit" / "secrets.toml"

# Environment variable -> settings field.
ENV_VARS = {
    "VELOCOACH_ENV": "env",
    "VELOCOACH_DB": "db_path",
    "VELOCOACH_DATA_DIR": "data_dir",
    "VELOCOACH_MAX_UPLOAD_MB": "max_upload_mb",
    "VELOCOACH_AI_BASE_URL": "ai_base_url",
    "VELOCOACH_AI_MODEL": "ai_model",
    "VELOCOACH_AI_KEY": "ai_api_key",
    "OPENAI_API_KEY": "ai_api_key",
    "VELOCOACH_AI_TIMEOUT_S": "ai_timeout_s",
    "VELOCOACH_AI_CALLS_PER_MINUTE": "ai_calls_per_minute",
    "VELOCOACH_FEATURES": "features",
    "VELOCOACH_SEED_DEMO": "seed_demo",
    "VELOCOACH_ALLOWED_HOSTS": "allowed_hosts",
    "VELOCOACH_SESSION_HOURS": "session_hours",
    "VELOCOACH_SYNC_CHECK_S": "sync_check_s",
    "VELOCOACH_ANSWERS": "keep_answers",
}

# Feature flags and their defaults (VELOCOACH_FEATURES switches them): each gates a real feature.
FEATURES = {
    "ai_coach": True,      # the LLM behind the coach (with a key); off: the deterministic coach only
    "garmin_sync": True,   # the Garmin sync page and the sync-garmin / garmin commands
    "health_page": True,   # the Health page (python -m core health works regardless)
    # the scheduled Garmin Connect sync inside the running app (Settings sets each account's interval, off by
    # default per account)
    "background_sync": True,
}
ENVIRONMENTS = ("development", "test", "production")
_TRUE, _FALSE = ("1", "true", "yes", "on", "t", "y"), ("0", "false", "no", "off", "f", "n")
# Compiled at its first use (re caches it): most starts have no host list to check.
_HOST = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"


class SecretStr:
    """A secret that never shows itself in a repr, a log line or an f-string; ``get_secret_value()`` reads it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')" if self._value else "SecretStr('')"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class _Invalid(ValueError):
    """One setting's problem; load_settings gathers them into one ConfigError naming each setting."""


def _number(value, kind: type, low: float, high: float, *, low_open: bool = False):
    if isinstance(value, bool):
        raise _Invalid("must be a number")
    try:
        number = kind(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise _Invalid(f"must be {'a whole number' if kind is int else 'a number'}") from None
    if kind is int and isinstance(value, float) and value != number:
        raise _Invalid("must be a whole number")
    if number != number or (number <= low if low_open else number < low) or number > high:
        raise _Invalid(f"must be {'above' if low_open else 'at least'} {low:g} and at most {high:g}")
    return number


def _flag(value) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Invalid("must be on or off (1/0, true/false, yes/no)")


def _hosts(value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    names = tuple(str(part).strip().lower().rstrip(".") for part in value or () if str(part).strip())
    for name in names:
        if name == "*" or not re.fullmatch(_HOST, name.removeprefix("*.")):
            raise _Invalid(f"{name!r} is not a host name (use names like velocoach.lan or *.example.org)")
    return names


def _features(value) -> dict[str, bool]:
    """``VELOCOACH_FEATURES="-garmin_sync, ai_coach=off"``: a name turns a feature on, ``-name`` or ``name=off``
    turns it off; every other feature keeps its default. An unknown name is refused."""
    flags = dict(FEATURES)
    if isinstance(value, dict):
        items = [f"{k}={'on' if v else 'off'}" for k, v in value.items()]
    elif isinstance(value, str):
        items = [part.strip() for part in value.split(",") if part.strip()]
    else:
        items = [str(part) for part in value or ()]
    for item in items:
        name, _, state = item.partition("=")
        name, state = name.strip().lower(), state.strip().lower()
        on = not name.startswith("-")
        name = name.lstrip("-")
        if state:
            if state not in ("on", "off", "1", "0", "true", "false"):
                raise _Invalid(f"{name} must be on or off")
            on = on and state in ("on", "1", "true")
        if name not in FEATURES:
            raise _Invalid(f"unknown feature {name!r}; known: {', '.join(FEATURES)}")
        flags[name] = on
    return flags


def _text(value, *, empty_is_none: bool = False) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid("must be text")
    return (value.strip() or None) if empty_is_none else value


def _url(value) -> str | None:
    value = _text(value, empty_is_none=True)
    if value and not value.startswith(("http://", "https://")):
        raise _Invalid("must start with http:// or https://")
    return value


def _secret(value) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(_text(value))


def _path(value, *, optional: bool = False) -> Path | None:
    if value is None or (optional and value == ""):
        if optional:
            return None
        raise _Invalid("must be a path")
    if not isinstance(value, (str, os.PathLike)):
        raise _Invalid("must be a path")
    return Path(value)


def _environment(value) -> str:
    if value not in ENVIRONMENTS:
        raise _Invalid(f"must be one of {', '.join(ENVIRONMENTS)}")
    return value


def _prices(value) -> dict[str, tuple[float, float]]:
    try:
        return {str(model): (float(pair[0]), float(pair[1])) for model, pair in dict(value).items()}
    except (TypeError, ValueError, IndexError, KeyError):
        raise _Invalid("must map a model name to (input, output) USD per million tokens") from None


# Each field's check: it returns the value as stored, or raises _Invalid saying what is wrong (never the value).
_CHECKS = {
    "env": _environment,
    "db_path": _path,
    "data_dir": lambda v: _path(v, optional=True),
    "max_upload_mb": lambda v: _number(v, int, 1, 2000),
    "ai_base_url": _url,
    "ai_model": _text,
    "ai_api_key": _secret,
    "ai_timeout_s": lambda v: _number(v, float, 0, 600, low_open=True),
    "ai_calls_per_minute": lambda v: _number(v, int, 1, 10_000),
    "ai_prices_per_mtok": _prices,
    "features": _features,
    "seed_demo": _flag,
    "allowed_hosts": _hosts,
    "session_hours": lambda v: _number(v, float, 0, 24 * 30, low_open=True),
    "sync_check_s": lambda v: _number(v, float, 0.05, 3600),
    "keep_answers": _flag,
}


def _default_prices() -> dict[str, tuple[float, float]]:
    # USD per million tokens (input, output) by model; unknown models cost 0 and say so.
    return {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.0), "gpt-4.1-mini": (0.40, 1.60)}


@dataclass
class Settings:
    # "development" shows error details in the browser; a rider's app (the default) never does.
    env: Literal["development", "test", "production"] = "production"
    db_path: Path = DEFAULT_DB_PATH
    data_dir: Path | None = None  # tokens and other files; defaults to the database's folder
    max_upload_mb: int = 100
    ai_base_url: str | None = None
    ai_model: str = "gpt-4o-mini"
    ai_api_key: SecretStr | None = None
    ai_timeout_s: float = 30.0
    ai_calls_per_minute: int = 20
    ai_prices_per_mtok: dict[str, tuple[float, float]] = field(default_factory=_default_prices)
    features: dict[str, bool] = field(default_factory=lambda: dict(FEATURES))
    seed_demo: bool | None = None  # None: seed the demo on a first run, except under VELOCOACH_ENV=test
    # Host names besides IP addresses and localhost under which the app may be reached (a LAN name, the reverse
    # proxy's public name); any other Host header is refused (DNS rebinding). "*.example.org" covers subdomains.
    allowed_hosts: tuple[str, ...] = ()
    session_hours: float = 12.0  # how long a sign-in lasts
    # How often the background Garmin sync looks for accounts that are due (the intervals themselves are hours).
    sync_check_s: float = 60.0
    # The command line keeps the answers of its light read-only commands beside the database (core.answers).
    keep_answers: bool = True

    def __post_init__(self) -> None:
        problems = []
        for name, check in _CHECKS.items():
            try:
                setattr(self, name, check(getattr(self, name)))
            except _Invalid as exc:
                problems.append(f"{name}: {exc}")
        if problems:
            raise ConfigError(f"Invalid setting — {'; '.join(problems)}")

    def feature(self, name: str) -> bool:
        """Whether a feature (FEATURES) is on."""
        return self.features.get(name, False)

    @property
    def log_level(self) -> str:
        """development logs what VeloCoach does (INFO); test and production only warnings and errors."""
        return "INFO" if self.env == "development" else "WARNING"

    @property
    def error_detail(self) -> bool:
        """Whether the app shows an unexpected error's type and message (never a traceback): development and test,
        never in production (the default)."""
        return self.env != "production"

    @property
    def demo_seeding(self) -> bool:
        """An empty database gets the demo athlete (a useful first run), unless VELOCOACH_SEED_DEMO says otherwise
        or VELOCOACH_ENV is test (tests start from what they build)."""
        return self.env != "test" if self.seed_demo is None else self.seed_demo

    @property
    def ai_enabled(self) -> bool:
        """An AI key is configured and the ai_coach feature is on (else the deterministic coach does the job)."""
        return (self.ai_api_key is not None and bool(self.ai_api_key.get_secret_value())
                and self.features.get("ai_coach", True))

    @property
    def files_dir(self) -> Path:
        return self.data_dir or self.db_path.parent

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


SETTING_NAMES = frozenset(f.name for f in fields(Settings))


def _read_secrets(path: Path) -> dict:
    if not path.is_file():
        return {}
    import tomllib  # here: most starts have no secrets file

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name} cannot be read: {exc}") from None
    # Accept either top-level keys or a [velocoach] table.
    section = data.get("velocoach", data)
    return {key: value for key, value in section.items() if key in SETTING_NAMES}


def load_settings(
    environ: dict | None = None, secrets_path: Path | None = None, **overrides
) -> Settings:
    """Build validated settings. Raises ConfigError naming the bad setting (never its value)."""
    environ = os.environ if environ is None else environ
    values: dict = _read_secrets(secrets_path or SECRETS_PATH)
    for var, name in ENV_VARS.items():
        if environ.get(var):
            values[name] = environ[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
