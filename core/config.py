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
    features: frozenset[str] = frozenset()
    seed_demo: bool = True
    # Host names besides IP addresses and localhost under which the app may be reached (a LAN name, the reverse
    # proxy's public name); any other Host header is refused (DNS rebinding). "*.example.org" covers subdomains.
    allowed_hosts: tuple[str, ...] = ()
    session_hours: float = Field(12.0, gt=0, le=24 * 30)  # how long a sign-in lasts

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
    def _split_features(cls, value):
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("ai_base_url")
    @classmethod
    def _check_url(cls, value):
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None

    @property
    def ai_enabled(self) -> bool:
        return self.ai_api_key is not None and bool(self.ai_api_key.get_secret_value())

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
