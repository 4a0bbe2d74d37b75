"""Structured workout steps: the one shape shared by the workout library, the plan JSON (``steps`` per planned
workout), device exports (.zwo, .fit, .mrc/.erg, .ics) and interval compliance.

A workout is a list of items; an item is a ``Step`` or a ``Repeat`` of steps. Targets are stored as % of FTP and
resolved to watts only where they are shown or exported (so an FTP change moves every future target):

- ``steady``/``work``/``recovery``: hold ``power_low_pct``–``power_high_pct`` for ``duration_s``;
- ``warmup``/``cooldown``/``ramp``: power moves linearly from ``power_low_pct`` to ``power_high_pct`` (a cool-down
  from high to low: write it with ``power_low_pct`` > ``power_high_pct``);
- ``free``: ride as you feel (no power target; 50 % FTP is assumed for load);
- ``cadence_rpm``: a cadence cue where it matters (low-cadence climbing, high-cadence spin-ups).

Load of a workout from its steps (``intensity_factor``, ``stress_score``): the steps are drawn as a 1 Hz target trace
(the middle of each step's range, ramps linear, a free ride at 50 % FTP) and scored exactly as a ride is
(core.rides.metrics.normalized_power, after Coggan/Allen and GoldenCheetah): NP = fourth root of the mean fourth
power of the 30-second rolling mean, IF = NP / FTP, TSS = hours × IF² × 100 — the way TrainerRoad and TrainingPeaks
rate a structured workout, so a planned workout and the ride that completes it are on the same scale.

Pure: no database, no files.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from core.rides.metrics import POWER_ZONE_PCT, normalized_power

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


def total_minutes(items: Steps) -> float:
    return total_seconds(items) / 60


# ----------------------------------------------------------------------------------------------------------------
# Load from steps
# ----------------------------------------------------------------------------------------------------------------

FREE_RIDE_PCT = 50.0


def _key(items: Steps) -> tuple:
    out = []
    for item in items:
        if isinstance(item, Repeat):
            out.append((item.count, tuple((s.kind, s.duration_s, s.power_low_pct, s.power_high_pct)
                                          for s in item.steps)))
        else:
            out.append((item.kind, item.duration_s, item.power_low_pct, item.power_high_pct))
    return tuple(out)


def _trace_of(key: tuple) -> np.ndarray:
    parts = []

    def draw(kind, duration_s, low, high):
        if kind == "free":
            parts.append(np.full(duration_s, FREE_RIDE_PCT))
        elif kind in ("warmup", "cooldown", "ramp"):
            parts.append(np.linspace(low, high, duration_s))
        else:
            parts.append(np.full(duration_s, (low + high) / 2))

    for entry in key:
        if isinstance(entry[0], int) and isinstance(entry[1], tuple):
            for _ in range(entry[0]):
                for step in entry[1]:
                    draw(*step)
        else:
            draw(*entry)
    return np.concatenate(parts) if parts else np.zeros(0)


def power_trace(items: Steps) -> np.ndarray:
    """The workout's target as a 1 Hz series in % FTP."""
    return _trace_of(_key(items))


@lru_cache(maxsize=4096)
def _load(key: tuple) -> tuple[float, float, tuple[float, ...]]:
    trace = _trace_of(key)
    if trace.size == 0:
        return 0.0, 0.0, (0.0,) * len(POWER_ZONE_PCT)
    np_pct = normalized_power(trace)  # the ride's own NP, over a trace in % FTP
    if_ = (np_pct if np_pct is not None else float(np.mean(trace ** 4) ** 0.25)) / 100
    tss = trace.size / 3600 * if_ ** 2 * 100
    index = np.searchsorted(np.asarray(POWER_ZONE_PCT, dtype=float), trace, side="right") - 1
    zones = np.bincount(np.clip(index, 0, None), minlength=len(POWER_ZONE_PCT))
    return if_, tss, tuple(float(z) for z in zones)


def intensity_factor(items: Steps) -> float:
    """IF = NP / FTP of the target trace (0 for no steps)."""
    return _load(_key(items))[0]


def stress_score(items: Steps) -> float:
    """TSS = hours × IF² × 100 (Coggan), from the steps."""
    return _load(_key(items))[1]


def zone_seconds(items: Steps) -> list[float]:
    """Seconds of the target trace in each of Coggan's seven power zones, bounded as a ride's are (zone i from
    POWER_ZONE_PCT[i] % FTP up to the next)."""
    return list(_load(_key(items))[2])


# ----------------------------------------------------------------------------------------------------------------
# Fitting a workout to a duration, and reading it back
# ----------------------------------------------------------------------------------------------------------------

MIN_WARM_S = 300
EASY_PCT = 80.0  # a steady step at or below this is "riding", which may be lengthened or shortened


def _easy(step: Step) -> bool:
    return step.kind in ("steady", "free") and step.mean_pct <= EASY_PCT


def fit_duration(items: Steps, target_s: int, *, filler_pct: tuple[float, float] = (65.0, 72.0)) -> Steps:
    """The workout stretched or shortened to ``target_s`` seconds without touching its intervals when possible.

    Longer: the longest easy steady step (the body of an endurance ride) grows; a workout without one gets an
    endurance block (``filler_pct``) before its cool-down. Shorter: easy steady steps shrink first, then warm-up and
    cool-down (not below 5 minutes), then repeats are dropped one at a time (never below one). The result may
    stay longer than asked when the intervals alone need more time."""
    items = list(items)
    delta = int(target_s) - total_seconds(items)
    if delta == 0:
        return items
    if delta > 0:
        easy = [i for i, it in enumerate(items) if isinstance(it, Step) and _easy(it)]
        if easy:
            i = max(easy, key=lambda j: items[j].duration_s)
            grow = min(delta, MAX_STEP_S - items[i].duration_s)
            items[i] = items[i].model_copy(update={"duration_s": items[i].duration_s + grow})
            delta -= grow
        while delta >= 5:
            at = len(items) - 1 if items and isinstance(items[-1], Step) and items[-1].kind == "cooldown" \
                else len(items)
            chunk = min(delta, MAX_STEP_S)
            items.insert(at, Step(kind="steady", duration_s=chunk, power_low_pct=filler_pct[0],
                                  power_high_pct=filler_pct[1], text="endurance"))
            delta -= chunk
        return items
    need = -delta
    for i in sorted((i for i, it in enumerate(items) if isinstance(it, Step) and _easy(it)),
                    key=lambda j: -items[j].duration_s):
        cut = min(need, items[i].duration_s - 5)
        if cut > 0:
            items[i] = items[i].model_copy(update={"duration_s": items[i].duration_s - cut})
            need -= cut
    items = [it for it in items if not (isinstance(it, Step) and _easy(it) and it.duration_s < 60)]
    for kind in ("cooldown", "warmup"):
        for i, it in enumerate(items):
            if need > 0 and isinstance(it, Step) and it.kind == kind and it.duration_s > MIN_WARM_S:
                cut = min(need, it.duration_s - MIN_WARM_S)
                items[i] = it.model_copy(update={"duration_s": it.duration_s - cut})
                need -= cut
    while need > 0:
        repeats = [i for i, it in enumerate(items) if isinstance(it, Repeat) and it.count > 1]
        if not repeats:
            break
        i = max(repeats, key=lambda j: sum(s.duration_s for s in items[j].steps))
        items[i] = items[i].model_copy(update={"count": items[i].count - 1})
        need -= sum(s.duration_s for s in items[i].steps)
    if need < 0:  # dropping a repeat overshot: give the time back to the warm-up side as easy riding
        return fit_duration(items, total_seconds(items) - need, filler_pct=filler_pct)
    return items


def _minutes(seconds: int) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds} s"


def _range(step: Step) -> str:
    low, high = round(step.power_low_pct), round(step.power_high_pct)
    text = f"{low} % FTP" if low == high else f"{low}–{high} % FTP"
    return text + (f" at {step.cadence_rpm} rpm" if step.cadence_rpm else "")


def main_set(items: Steps) -> str:
    """The workout's main set in a few words, e.g. '3 × 12 min at 88–94 % FTP' (the first hard part)."""
    for item in items:
        if isinstance(item, Repeat):
            work = max(item.steps, key=lambda s: s.mean_pct)
            return f"{item.count} × {_minutes(work.duration_s)} at {_range(work)}"
        if item.kind in ("work", "steady") and item.mean_pct > EASY_PCT:
            return f"{_minutes(item.duration_s)} at {_range(item)}"
    steady = [s for s in flatten(items) if s.kind in ("steady", "free")]
    if steady:
        body = max(steady, key=lambda s: s.duration_s)
        return f"steady at {_range(body)}" if body.kind == "steady" else "ride as you feel"
    return ""


def steps_json(items: Steps) -> list[dict]:
    """Steps as plain JSON (the plan's ``steps``), without empty optional fields."""
    return [item.model_dump(mode="json", exclude_none=True) for item in items]


def in_watts(items: Steps, ftp_w: float) -> list[dict]:
    """Every step in riding order with its target in watts for this FTP (view and export time)."""
    out = []
    for step in flatten(items):
        row = {"kind": step.kind, "duration_s": step.duration_s, "power_low_w": None, "power_high_w": None,
               "cadence_rpm": step.cadence_rpm, "text": step.text}
        if step.kind != "free":
            row["power_low_w"] = round(step.power_low_pct / 100 * ftp_w)
            row["power_high_w"] = round(step.power_high_pct / 100 * ftp_w)
        out.append(row)
    return out
