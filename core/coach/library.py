"""The structured workout library: workouts kept as data (TOML, stdlib ``tomllib``) in core/coach/workout_library/,
one file per type, validated with pydantic into the shared step model (core.coach.workouts).

A library entry::

    [[workout]]
    id = "sst-3x12"                  # unique, lower case
    name = "Sweet spot 3 × 12"
    type = "sweet_spot"              # recovery endurance tempo sweet_spot threshold vo2max anaerobic sprint long
                                     # openers race test group_ride commute
    level = 2                        # progression level within its type (and event chain)
    phases = ["base", "build"]       # phases it suits
    events = ["climbing_event"]      # event types it serves best (empty: every event)
    venue = "either"                 # indoor | outdoor | either
    description = "…"
    steps = [                        # compact steps: min or s, pct = number or [low, high] (% FTP), rpm, text
      { kind = "warmup", min = 10, pct = [50, 75] },
      { repeat = 3, steps = [ { kind = "work", min = 12, pct = [88, 94], rpm = 90 },
                              { kind = "recovery", min = 5, pct = [50, 60] } ] },
      { kind = "cooldown", min = 10, pct = [65, 45] },
    ]

Every workout starts with a warm-up and ends with a cool-down; its duration, IF and TSS come from its steps.
``pick`` chooses a workout for a slot: the type, a phase it suits, the event's own variants first, the highest
level not above the one asked for, rotating among equals for variety.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.coach.workouts import STEPS, Repeat, Step, Steps, intensity_factor, stress_score, total_seconds
from core.errors import VeloCoachError

LIBRARY_DIR = Path(__file__).resolve().parent / "workout_library"
LibraryType = Literal["recovery", "endurance", "tempo", "sweet_spot", "threshold", "vo2max", "anaerobic", "sprint",
                      "long", "openers", "race", "test", "group_ride", "commute"]
LIBRARY_TYPES: tuple[str, ...] = LibraryType.__args__  # type: ignore[attr-defined]
Phase = Literal["base", "build", "peak", "taper", "recovery"]
EventType = Literal["road_race", "gran_fondo", "time_trial", "criterium", "stage_race", "climbing_event",
                    "general_fitness"]


class LibraryError(VeloCoachError):
    """The workout library's data is broken (a file that does not parse or an entry that does not validate)."""


def _compact_step(raw: dict) -> dict:
    """``{kind, min|s, pct, rpm, text}`` or ``{repeat, steps}`` → the step model's own field names."""
    if not isinstance(raw, dict):
        raise ValueError(f"a step must be a table, got {raw!r}")
    if "repeat" in raw:
        extra = set(raw) - {"repeat", "steps"}
        if extra:
            raise ValueError(f"unknown field(s) {sorted(extra)} in a repeat")
        return {"kind": "repeat", "count": raw["repeat"], "steps": [_compact_step(s) for s in raw.get("steps", [])]}
    extra = set(raw) - {"kind", "min", "s", "pct", "rpm", "text"}
    if extra:
        raise ValueError(f"unknown field(s) {sorted(extra)} in a step")
    if ("min" in raw) == ("s" in raw):
        raise ValueError("a step needs exactly one of min or s")
    seconds = raw["s"] if "s" in raw else raw["min"] * 60
    if isinstance(seconds, float) and not seconds.is_integer():
        raise ValueError(f"a step's duration must be whole seconds, got {seconds}")
    pct = raw.get("pct", 0)
    low, high = (pct, pct) if isinstance(pct, (int, float)) else tuple(pct) if len(pct) == 2 else (None, None)
    if low is None:
        raise ValueError("pct must be a number or [low, high]")
    step = {"kind": raw.get("kind"), "duration_s": int(seconds), "power_low_pct": low, "power_high_pct": high}
    if "rpm" in raw:
        step["cadence_rpm"] = raw["rpm"]
    if "text" in raw:
        step["text"] = raw["text"]
    return step


class LibraryWorkout(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,48}$")
    name: str = Field(min_length=1, max_length=80)
    type: LibraryType
    level: int = Field(ge=1, le=6)
    phases: list[Phase] = Field(min_length=1)
    events: list[EventType] = Field(default_factory=list)
    venue: Literal["indoor", "outdoor", "either"] = "either"
    description: str = Field(min_length=1, max_length=300)
    steps: list[Step | Repeat] = Field(min_length=1)

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, value):
        if not isinstance(value, list):
            raise ValueError("steps must be a list")
        return STEPS.validate_python([_compact_step(s) for s in value])

    @model_validator(mode="after")
    def _warm_and_cool(self):
        first, last = self.steps[0], self.steps[-1]
        if not (isinstance(first, Step) and first.kind == "warmup"):
            raise ValueError("a workout starts with a warm-up")
        if not (isinstance(last, Step) and last.kind == "cooldown"):
            raise ValueError("a workout ends with a cool-down")
        return self

    @cached_property
    def duration_min(self) -> float:
        return total_seconds(self.steps) / 60

    @cached_property
    def intensity_factor(self) -> float:
        return intensity_factor(self.steps)

    @cached_property
    def tss(self) -> float:
        return stress_score(self.steps)


@dataclass(frozen=True)
class Library:
    workouts: dict[str, LibraryWorkout]

    def get(self, workout_id: str) -> LibraryWorkout:
        try:
            return self.workouts[workout_id]
        except KeyError:
            raise LibraryError(f"There is no workout “{workout_id}” in the library.") from None

    def of_type(self, kind: str) -> list[LibraryWorkout]:
        return [w for w in self.workouts.values() if w.type == kind]

    def pick(self, kind: str, *, phase: str, event: str | None = None, level: int = 1, rotate: int = 0,
             max_minutes: float | None = None) -> LibraryWorkout | None:
        """The workout for a slot: ``kind`` suiting ``phase`` (any phase when none does), the event's own
        variants when there are some, the highest level ≤ ``level`` (the lowest when none is), not longer than
        ``max_minutes`` when one fits; ``rotate`` turns through equals."""
        pool = self.of_type(kind)
        if not pool:
            return None
        suited = [w for w in pool if phase in w.phases] or pool
        if event:
            own = [w for w in suited if event in w.events]
            suited = own or [w for w in suited if not w.events] or suited
        else:
            suited = [w for w in suited if not w.events] or suited
        if max_minutes is not None:
            suited = [w for w in suited if w.duration_min <= max_minutes + 1e-9] or \
                [min(suited, key=lambda w: w.duration_min)]
        below = [w for w in suited if w.level <= level]
        top = max(w.level for w in below) if below else min(w.level for w in suited)
        equals = sorted((w for w in suited if w.level == top), key=lambda w: w.id)
        return equals[rotate % len(equals)]

    def max_level(self, kind: str, event: str | None = None) -> int:
        pool = self.of_type(kind)
        own = [w for w in pool if event and event in w.events]
        return max((w.level for w in (own or [w for w in pool if not w.events] or pool)), default=1)


def read_library(folder: Path) -> Library:
    """Every ``*.toml`` in ``folder``, validated; LibraryError naming the file and the entry otherwise."""
    workouts: dict[str, LibraryWorkout] = {}
    files = sorted(Path(folder).glob("*.toml"))
    if not files:
        raise LibraryError(f"No workout files in {folder}.")
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise LibraryError(f"The workout file {path.name} is not valid TOML: {exc}") from None
        extra = set(data) - {"workout"}
        if extra or not isinstance(data.get("workout"), list):
            raise LibraryError(f"The workout file {path.name} must hold only [[workout]] tables.")
        for n, raw in enumerate(data["workout"], start=1):
            try:
                workout = LibraryWorkout(**raw)
            except (ValidationError, TypeError, ValueError) as exc:
                label = raw.get("id", f"entry {n}") if isinstance(raw, dict) else f"entry {n}"
                first = str(exc).splitlines()[0] if isinstance(exc, (TypeError, ValueError)) and \
                    not isinstance(exc, ValidationError) else "; ".join(
                        f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
                raise LibraryError(f"Workout {label} in {path.name} is not valid — {first}") from None
            if workout.id in workouts:
                raise LibraryError(f"Workout id {workout.id} appears twice (second time in {path.name}).")
            workouts[workout.id] = workout
    return Library(workouts)


@lru_cache(maxsize=1)
def library() -> Library:
    """The shipped library (read once per process)."""
    return read_library(LIBRARY_DIR)


def library_steps(workout_id: str) -> Steps:
    return list(library().get(workout_id).steps)
