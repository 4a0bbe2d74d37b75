"""The athlete's profile and privacy zones as pydantic models: what a rider may enter, in plain-word errors."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator, model_validator

from core.athletes.bounds import MAX_PRIVACY_ZONES, RIDING_LABELS, RIDING_SETTINGS
from core.errors import ValidationError as VCValidationError


class PrivacyZone(BaseModel):
    """A place (home, work) whose surroundings never appear on a ride's map or in a shared GPX file: every recorded
    point within ``radius_m`` is left out, wherever in the ride it is (not only at the start or the end)."""

    name: str = Field("Home", min_length=1, max_length=60)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(500, ge=100, le=5000)


PRIVACY_ZONES = TypeAdapter(list[PrivacyZone])


class AthleteProfile(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    email: str | None = Field(None, max_length=200)
    fitness_level: Literal["beginner", "intermediate", "advanced", "elite"] = "intermediate"
    ftp_w: float | None = Field(None, ge=50, le=600, description="Functional threshold power, watts")
    max_hr: int | None = Field(None, ge=100, le=230)
    lthr: int | None = Field(None, ge=80, le=220, description="Lactate threshold heart rate")
    weight_kg: float | None = Field(None, ge=30, le=200)
    preferences: dict = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("email")
    @classmethod
    def _check_email(cls, value):
        if value is None or not value.strip():
            return None
        value = value.strip()
        local, _, domain = value.partition("@")
        if not local or "." not in domain or " " in value:
            raise ValueError("is not an e-mail address")
        return value

    @field_validator("preferences")
    @classmethod
    def _check_display(cls, value: dict) -> dict:
        """How numbers are shown: ``units`` metric or imperial, ``timezone`` an IANA zone name."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if value.get("units", "metric") not in ("metric", "imperial"):
            raise ValueError("units must be metric or imperial")
        zone = value.get("timezone", "UTC")
        try:
            if not isinstance(zone, str) or not zone or len(zone) > 64:
                raise ValueError
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time zone “{str(zone)[:64]}” is not a known zone (e.g. Europe/Paris)") from None
        return value

    @model_validator(mode="after")
    def _lthr_below_max(self):
        if self.lthr and self.max_hr and self.lthr >= self.max_hr:
            raise ValueError("lactate threshold HR must be below max HR")
        return self

    @field_validator("preferences")
    @classmethod
    def _riding_settings_in_range(cls, value: dict) -> dict:
        for key, (low, high, _) in RIDING_SETTINGS.items():
            if key in value and value[key] is not None:
                number = value[key]
                if isinstance(number, bool) or not isinstance(number, (int, float)) or not low <= number <= high:
                    raise ValueError(f"{RIDING_LABELS[key]} must be between {low:g} and {high:g}")
        if value.get("privacy_zones"):
            try:
                zones = PRIVACY_ZONES.validate_python(value["privacy_zones"])
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"][1:]) or "zone"
                raise ValueError(f"a privacy zone's {where} {first['msg'].lower()}") from None
            if len(zones) > MAX_PRIVACY_ZONES:
                raise ValueError(f"at most {MAX_PRIVACY_ZONES} privacy zones")
            value = {**value, "privacy_zones": [z.model_dump() for z in zones]}
        return value


_LABELS = {"ftp_w": "FTP", "max_hr": "Max HR", "lthr": "LTHR", "weight_kg": "Weight", "name": "Name",
           "email": "E-mail", "fitness_level": "Fitness level", "preferences": "Display:"}


def validate_profile(**values) -> AthleteProfile:
    """AthleteProfile or a ValidationError whose message names each bad field in plain words."""
    try:
        return AthleteProfile(**values)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            field = _LABELS.get(str(err["loc"][0]), str(err["loc"][0])) if err["loc"] else "Profile"
            parts.append(f"{field} {err['msg'].removeprefix('Value error, ')}")
        raise VCValidationError("; ".join(parts)) from None


