"""Structured workout steps: the one shape shared by the workout library, the plan JSON (``steps`` per planned
workout), device exports (.zwo, .fit, .mrc/.erg, .ics) and interval compliance.

A workout is a list of items; an item is a ``Step`` or a ``Repeat`` of steps. Targets are stored as % of FTP and
resolved to watts only where they are shown or exported (so an FTP change moves every future target):

- ``steady``/``work``/``recovery``: hold ``power_low_pct``–``power_high_pct`` for ``duration_s``;
- ``warmup``/``cooldown``/``ramp``: power moves linearly from ``power_low_pct`` to ``power_high_pct`` (a cool-down
  from high to low: write it with ``power_low_pct`` > ``power_high_pct``);
- ``free``: ride as you feel (no power target; 50 % FTP is assumed for load);
- ``cadence_rpm``: a cadence cue where it matters (low-cadence climbing, high-cadence spin-ups).

Pure: no database, no files.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

StepKind = Literal["warmup", "steady", "work", "recovery", "ramp", "cooldown", "free"]
MAX_STEP_S = 6 * 3600
MAX_REPEATS = 50


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: StepKind
    duration_s: int = Field(ge=5, le=MAX_STEP_S)
    power_low_pct: float = Field(0.0, ge=0, le=400)
    power_high_pct: float = Field(0.0, ge=0, le=400)
    cadence_rpm: int | None = Field(None, ge=30, le=150)
    text: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _has_target(self):
        if self.kind != "free" and max(self.power_low_pct, self.power_high_pct) <= 0:
            raise ValueError(f"a {self.kind} step needs a power target (% FTP)")
        if self.kind in ("steady", "work", "recovery") and self.power_low_pct > self.power_high_pct:
            raise ValueError("power_low_pct must not exceed power_high_pct on a steady step")
        return self

    @property
    def mean_pct(self) -> float:
        """Average target over the step (ramps included); 50 % FTP for a free ride."""
        if self.kind == "free":
            return 50.0
        return (self.power_low_pct + self.power_high_pct) / 2


class Repeat(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["repeat"] = "repeat"
    count: int = Field(ge=1, le=MAX_REPEATS)
    steps: list[Step] = Field(min_length=1, max_length=10)


Item = Annotated[Step | Repeat, Field(discriminator="kind")]
Steps = list[Item]
STEPS = TypeAdapter(list[Item])


def flatten(items: Steps) -> list[Step]:
    """Every step in riding order, repeats expanded."""
    out: list[Step] = []
    for item in items:
        if isinstance(item, Repeat):
            for _ in range(item.count):
                out.extend(item.steps)
        else:
            out.append(item)
    return out


def total_seconds(items: Steps) -> int:
    return sum(step.duration_s for step in flatten(items))
