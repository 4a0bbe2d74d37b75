"""Settings from environment variables and .streamlit/secrets.toml, validated once at start-up.

Precedence: environment variable > secrets.toml > default. Secrets (the AI key) live only in this object in
memory: they are never logged, written to the database or exported (``Settings.__repr__`` masks them).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator

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


class Settings(BaseModel):
    # "development" shows error details in the browser; a rider's app (the default) never does.
    env: Literal["development", "test", "production"] = "production"
    db_path: Path = DEFAULT_DB_PATH
    data_dir: Path | None = None  # tokens and other files; defaults to the database's folder
    max_upload_mb: int = Field(100, ge=1, le=2000)
    ai_base_url: str | None = None
    ai_model: str = "gpt-4o-mini"
    ai_api_key: SecretStr | None = None
    ai_timeout_s: float = Field(30.0, gt=0, le=600)
    ai_calls_per_minute: int = Field(20, ge=1, le=10_000)
    # USD per million tokens (input, output) by model; unknown models cost 0 and say so.
    ai_prices_per_mtok: dict[str, tuple[float, float]] = {
        "gpt-4o-mini": (0.15, 0.60),
        "gpt-4o": (2.50, 10.0),
        "gpt-4.1-mini": (0.40, 1.60),
    }
    features: dict[str, bool] = Field(default_factory=lambda: dict(FEATURES))
    seed_demo: bool | None = None  # None: seed the demo on a first run, except under VELOCOACH_ENV=test
    # Host names besides IP addresses and localhost under which the app may be reached (a LAN name, the reverse
    # proxy's public name); any other Host header is refused (DNS rebinding). "*.example.org" covers subdomains.
    allowed_hosts: tuple[str, ...] = ()
    session_hours: float = Field(12.0, gt=0, le=24 * 30)  # how long a sign-in lasts
    # How often the background Garmin sync looks for accounts that are due (the intervals themselves are hours).
    sync_check_s: float = Field(60.0, ge=0.05, le=3600)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value):
        if isinstance(value, str):
            value = value.split(",")
        names = tuple(str(part).strip().lower().rstrip(".") for part in value if str(part).strip())
        for name in names:
            bare = name.removeprefix("*.")
            if name == "*" or not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*",
                                                bare):
                raise ValueError(f"{name!r} is not a host name (use names like velocoach.lan or *.example.org)")
        return names

    @field_validator("features", mode="before")
    @classmethod
    def _parse_features(cls, value):
        """``VELOCOACH_FEATURES="-garmin_sync, ai_coach=off"``: a name turns a feature on, ``-name`` or
        ``name=off`` turns it off; every other feature keeps its default. An unknown name is refused."""
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
                    raise ValueError(f"{name} must be on or off")
                on = on and state in ("on", "1", "true")
            if name not in FEATURES:
                raise ValueError(f"unknown feature {name!r}; known: {', '.join(FEATURES)}")
            flags[name] = on
        return flags

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

    @field_validator("ai_base_url")
    @classmethod
    def _check_url(cls, value):
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None

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


def _read_secrets(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name} cannot be read: {exc}") from None
    # Accept either top-level keys or a [velocoach] table.
    section = data.get("velocoach", data)
    return {key: value for key, value in section.items() if key in Settings.model_fields}


def load_settings(
    environ: dict | None = None, secrets_path: Path | None = None, **overrides
) -> Settings:
    """Build validated settings. Raises ConfigError naming the bad setting (never its value)."""
    environ = os.environ if environ is None else environ
    values: dict = _read_secrets(secrets_path or SECRETS_PATH)
    for var, field in ENV_VARS.items():
        if environ.get(var):
            values[field] = environ[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"Invalid setting — {problems}") from None
