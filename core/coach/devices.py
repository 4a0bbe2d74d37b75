"""What a plan's riding workouts look like on a device, before any file format: the steps of each planned
workout (its own ``steps``, else a documented fallback built from its type, duration and target), titles and
sanitised file stems, rider-facing step lines with watts at a given FTP (.ics, FIT notes, Garmin Connect).

Every text from a plan (names, descriptions, cues) goes through ``clean_text``: characters that XML, a FIT string
or a header line cannot hold are removed and the length is limited. Pure: no database, no files.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError as PydanticValidationError

from core.coach.plans.schema import ZONES
from core.coach.workouts import STEPS, Item, Repeat, Step, fit_duration, total_seconds
from core.errors import ValidationError

TYPE_LABELS = {"recovery": "Recovery", "endurance": "Endurance", "long": "Long ride", "tempo": "Tempo",
               "sweet_spot": "Sweet spot", "threshold": "Threshold", "vo2max": "VO2max", "anaerobic": "Anaerobic",
               "race": "Race"}
KIND_LABELS = {"warmup": "warm-up", "steady": "steady", "work": "work", "recovery": "recovery", "ramp": "ramp",
               "cooldown": "cool-down", "free": "free ride"}
MAX_NAME_CHARS = 80
MAX_DESCRIPTION_CHARS = 2000
MAX_SLUG_CHARS = 60

# ----------------------------------------------------------------------------------------------------------------
# Text that is safe in XML, a FIT string, a header line and a file name
# ----------------------------------------------------------------------------------------------------------------
# XML 1.0 forbids C0 controls other than tab/newline/CR, lone surrogates and U+FFFE/U+FFFF; FIT strings end at NUL.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_text(value, max_chars: int, *, single_line: bool = False) -> str:
    """``value`` as text any of our formats can hold: unsafe characters removed, at most ``max_chars`` long."""
    text = unicodedata.normalize("NFC", _UNSAFE.sub("", str(value or "")))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if single_line:
        text = " ".join(text.split())
    text = text.strip()
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def slug(text: str) -> str:
    """ASCII, lower case, words joined by '_' (so a file name is the same on every system): 'threshold_2x20'."""
    text = unicodedata.normalize("NFKD", str(text).replace("×", "x")).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return text[:MAX_SLUG_CHARS].rstrip("_") or "workout"


# ----------------------------------------------------------------------------------------------------------------
# The steps of a planned workout
# ----------------------------------------------------------------------------------------------------------------
# Fallback main sets (reps, work s, recovery s) when a saved plan has no steps; the engine's "N × M min" text wins.
_MAIN_SETS = {"tempo": (3, 900, 300), "sweet_spot": (3, 720, 300), "threshold": (2, 1200, 300),
              "vo2max": (5, 240, 240), "anaerobic": (8, 60, 120)}
_CADENCE = {"vo2max": 100, "anaerobic": 105}
_RECOVERY_PCT = (50.0, 55.0)
_ENDURANCE_PCT = (60.0, 70.0)
_INTERVALS_TEXT = re.compile(r"(\d{1,2})\s*[×x]\s*(\d{1,3}(?:\.\d+)?)\s*min", re.I)


def is_riding(workout: dict) -> bool:
    return workout.get("type") != "rest" and float(workout.get("duration_min") or 0) > 0


def workout_steps(workout: dict) -> list[Item]:
    """The workout's structured steps: its own ``steps`` (validated), else ``fallback_steps``; [] on rest days.

    Raises ValidationError naming the day when the plan carries steps that are not valid."""
    if not is_riding(workout):
        return []
    raw = workout.get("steps")
    if raw:
        try:
            steps = STEPS.validate_python(raw)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            raise ValidationError(f"The workout on {str(workout.get('date'))[:10]} has steps VeloCoach cannot use "
                                  f"({first['msg'].removeprefix('Value error, ')}).") from None
        planned_s = round(float(workout.get("duration_min") or 0) * 60)
        if abs(total_seconds(steps) - planned_s) > 30:  # an edited duration: the intervals stay, the riding fits
            steps = fit_duration(steps, planned_s)
        return steps
    return fallback_steps(workout)


def _round5(seconds: float) -> int:
    return int(max(5, round(seconds / 5) * 5))


def _round_minute(seconds: float) -> int:
    return int(max(60, round(seconds / 60) * 60))


def fallback_steps(workout: dict) -> list[Item]:
    """Steps for a saved workout without any (plans made before the workout library), from its type, duration
    and target: a warm-up ramp, the main set, endurance filling any time left, a cool-down ramp. The total is
    exactly ``duration_min``. See docs/COACHING.md ("Device exports") for the rules and their sources."""
    kind = workout.get("type")
    total = int(round(float(workout.get("duration_min") or 0) * 60))
    if total < 5:
        return []
    if kind not in ZONES or (kind not in _MAIN_SETS and kind not in ("recovery", "endurance", "long", "race")):
        # a type without a main set here (group ride, commute, sprints, a test): ride it as the description says
        cue = clean_text(workout.get("description") or "", 200, single_line=True) or None
        return [Step(kind="free", duration_s=min(total, 6 * 3600), text=cue)]
    target = workout.get("target") or {}
    _, low, high = ZONES[kind]
    zone = (low * 100, high * 100)
    if total < 15 * 60:  # too short for a structure: hold the zone
        return [Step(kind="free" if kind == "race" else "steady", duration_s=total,
                     power_low_pct=zone[0], power_high_pct=zone[1])]
    easy = kind in ("recovery", "endurance", "long")
    warm = _round_minute(min(900, max(300, total * 0.15)) if not easy else min(600, max(300, total * 0.1)))
    cool = _round_minute(min(600, max(300, total * 0.1)))
    main = total - warm - cool
    warmup = Step(kind="warmup", duration_s=warm, power_low_pct=40 if kind == "recovery" else 45,
                  power_high_pct=zone[0] if easy else 70)
    cooldown = Step(kind="cooldown", duration_s=cool, power_low_pct=60 if kind != "recovery" else 50,
                    power_high_pct=40)
    if kind == "race":
        return [warmup, Step(kind="free", duration_s=main + cool, text="Race: ride to your pacing plan")]
    if easy:
        text = "Fuel every 20–30 min" if kind == "long" else None
        return [warmup, Step(kind="steady", duration_s=main, power_low_pct=zone[0], power_high_pct=zone[1],
                             text=text), cooldown]
    climbs = target.get("climbs") or []
    if climbs and kind in ("threshold", "vo2max", "sweet_spot"):
        body = _climb_set(climbs, target, low, high, main)
    else:
        body = _interval_set(kind, target, zone, main)
    used = total_seconds(body)
    fill = main - used
    if fill >= 60:
        body.append(Step(kind="steady", duration_s=fill, power_low_pct=_ENDURANCE_PCT[0],
                         power_high_pct=_ENDURANCE_PCT[1]))
    elif fill > 0:
        cooldown = cooldown.model_copy(update={"duration_s": cool + fill})
    return [warmup, *body, cooldown]


def _interval_set(kind: str, target: dict, zone: tuple[float, float], main_s: int) -> list[Item]:
    reps, work, rest = _MAIN_SETS[kind]
    match = _INTERVALS_TEXT.search(str(target.get("intervals") or ""))
    if match:
        reps, work = int(match.group(1)), float(match.group(2)) * 60
    reps = max(1, min(reps, 30))
    while reps > 1 and reps * (work + rest) > main_s:
        reps -= 1
    if reps * (work + rest) > main_s:  # one interval does not fit either: shorten work and recovery alike
        scale = main_s / (work + rest)
        work, rest = work * scale, rest * scale
    work_step = Step(kind="work", duration_s=_round5(work), power_low_pct=zone[0], power_high_pct=zone[1],
                     cadence_rpm=_CADENCE.get(kind))
    rest_step = Step(kind="recovery", duration_s=_round5(rest), power_low_pct=_RECOVERY_PCT[0],
                     power_high_pct=_RECOVERY_PCT[1])
    while reps * (work_step.duration_s + rest_step.duration_s) > main_s:  # rounding up by 5 s can overshoot
        rest_step = rest_step.model_copy(update={"duration_s": rest_step.duration_s - 5})
    return [Repeat(count=reps, steps=[work_step, rest_step])]


def _climb_set(climbs: list[dict], target: dict, zone_low: float, zone_high: float, main_s: int) -> list[Item]:
    """The goal route's climbs as work steps at their pacing power, 5 min easy between (the engine's targets)."""
    power = [float(p) for p in (target.get("power_w") or [])[:2]]
    # the plan's FTP from its rounded zone watts: both ends together are exact to the watt
    plan_ftp = sum(power) / (zone_low + zone_high) if len(power) == 2 and sum(power) > 0 else 0.0
    rest = 300
    durations = [max(120.0, float(c.get("duration_min") or 0) * 60) for c in climbs]
    needed = sum(durations) + rest * len(durations)
    scale = min(1.0, main_s / needed) if needed else 1.0
    body: list[Item] = []
    for climb, seconds in zip(climbs, durations, strict=True):
        pct = float(climb.get("power_w") or 0) / plan_ftp * 100 if plan_ftp else 100.0
        pct = min(150.0, max(80.0, pct))
        text = clean_text(f"Like {climb.get('name') or 'the climb'}: seated, steady", 200, single_line=True)
        body.append(Step(kind="work", duration_s=_round5(seconds * scale), power_low_pct=round(pct - 2.5, 1),
                         power_high_pct=round(pct + 2.5, 1), cadence_rpm=75, text=text))
        body.append(Step(kind="recovery", duration_s=_round5(rest * scale), power_low_pct=_RECOVERY_PCT[0],
                         power_high_pct=_RECOVERY_PCT[1]))
    while total_seconds(body) > main_s:  # rounding: take the excess from the last recovery
        last = body[-1]
        body[-1] = last.model_copy(update={"duration_s": last.duration_s - 5})
    return body


# ----------------------------------------------------------------------------------------------------------------
# Words: titles and step lines (ICS, FIT notes, Garmin)
# ----------------------------------------------------------------------------------------------------------------
def workout_title(workout: dict, steps: list[Item]) -> str:
    """'Threshold 2×20', 'Endurance 90 min', or the library workout's own name."""
    own = clean_text(workout.get("name") or (workout.get("target") or {}).get("name") or "", MAX_NAME_CHARS,
                     single_line=True)  # the library workout's name is in target.name in the plan JSON
    if own:
        return own
    label = TYPE_LABELS.get(workout.get("type"), str(workout.get("type") or "Workout").replace("_", " ").title())
    repeats = [i for i in steps if isinstance(i, Repeat)]
    if repeats:
        main = max(repeats, key=lambda r: r.count * r.steps[0].duration_s)
        return f"{label} {main.count}×{_minutes(main.steps[0].duration_s)}"
    return f"{label} {float(workout.get('duration_min') or 0):.0f} min"


def _minutes(seconds: int) -> str:
    return f"{seconds / 60:g}" if seconds % 60 == 0 or seconds >= 600 else f"{seconds}s"


def duration_text(seconds: int) -> str:
    minutes, secs = divmod(int(seconds), 60)
    if minutes and secs:
        return f"{minutes} min {secs} s"
    return f"{minutes} min" if minutes else f"{secs} s"


def power_text(step: Step, ftp_w: float | None) -> str:
    """'95–105 % FTP (238–263 W)'; a ramp reads 'from → to'; a free ride has no target."""
    if step.kind == "free":
        return "no target"
    lo, hi = step.power_low_pct, step.power_high_pct
    ramp = step.kind in ("warmup", "cooldown", "ramp") and lo != hi
    sep = "→" if ramp else "–"
    pct = f"{lo:g}{sep}{hi:g} % FTP" if lo != hi else f"{lo:g} % FTP"
    if not ftp_w:
        return pct
    w_lo, w_hi = round(ftp_w * lo / 100), round(ftp_w * hi / 100)
    return f"{pct} ({w_lo}{sep}{w_hi} W)" if w_lo != w_hi else f"{pct} ({w_lo} W)"


def step_text(step: Step, ftp_w: float | None) -> str:
    parts = [f"{duration_text(step.duration_s)} {KIND_LABELS[step.kind]} {power_text(step, ftp_w)}"]
    if step.cadence_rpm:
        parts.append(f"{step.cadence_rpm} rpm")
    if step.text:
        parts.append(clean_text(step.text, 200, single_line=True))
    return ", ".join(parts)


def step_lines(steps: list[Item], ftp_w: float | None) -> list[str]:
    """One line per step or repeat block, watts at ``ftp_w`` (the export day's FTP) beside % FTP."""
    lines = []
    for item in steps:
        if isinstance(item, Repeat):
            inner = "; ".join(step_text(s, ftp_w) for s in item.steps)
            lines.append(f"{item.count} × ({inner})")
        else:
            lines.append(step_text(item, ftp_w))
    return lines


# ----------------------------------------------------------------------------------------------------------------
# The riding workouts of a plan
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlannedRide:
    """A riding workout of a plan with everything a writer needs."""

    date: str
    type: str
    title: str
    stem: str
    description: str
    steps: list[Item]
    indoor: bool
    week: int
    phase: str


# Fixed sessions that are not workouts to follow on a device: a commute is ridden to get somewhere (the engine
# does not count it as training either); it stays on the plan, its calendar (.ics) and its compliance.
NOT_DEVICE_WORKOUTS = frozenset({"commute"})


def planned_rides(plan_row: dict, *, week: int | None = None) -> list[PlannedRide]:
    """The plan's riding workouts in date order (of one week when ``week`` is given), with unique file stems: what
    goes to a device file or the Garmin calendar (commutes left out: NOT_DEVICE_WORKOUTS)."""
    weeks = (plan_row.get("plan") or {}).get("weeks") or []
    if week is not None and not any(int(w.get("week", 0)) == week for w in weeks):
        raise ValidationError(f"The plan has no week {week} (it has {len(weeks)} week(s)).")
    plan_name = clean_text(plan_row.get("name") or "", MAX_NAME_CHARS, single_line=True)
    rides: list[PlannedRide] = []
    seen: dict[str, int] = {}
    for wk in weeks:
        if week is not None and int(wk.get("week", 0)) != week:
            continue
        for w in sorted(wk.get("workouts") or [], key=lambda w: str(w.get("date"))):
            steps = [] if w.get("type") in NOT_DEVICE_WORKOUTS else workout_steps(w)
            if not steps:
                continue
            day = date.fromisoformat(str(w["date"])[:10]).isoformat()
            title = workout_title(w, steps)
            stem = f"{day}_{slug(title)}"
            seen[stem] = seen.get(stem, 0) + 1
            if seen[stem] > 1:
                stem = f"{stem}_{seen[stem]}"
            about = clean_text(w.get("description") or "", 1000)
            description = "\n".join(filter(None, [about, f"{plan_name} · week {wk.get('week')} · "
                                                         f"{wk.get('phase', '')}".strip(" ·")]))
            rides.append(PlannedRide(day, str(w.get("type")), title, stem, description, steps,
                                     bool((w.get("target") or {}).get("indoor")), int(wk.get("week", 0)),
                                     str(wk.get("phase", ""))))
    return rides
