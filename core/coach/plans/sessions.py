"""What fills a week and what it says (pure): the key sessions by phase, intensity distribution and event, the
progression levels, the long ride's reach, and the sentence that explains each week of a plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.coach.plans.periodisation import LOADING_PHASES

KEYS = {  # key sessions by phase and intensity distribution (library types, most important first)
    ("base", "pyramidal"): ["sweet_spot", "tempo", "threshold", "sprint"],
    ("build", "pyramidal"): ["threshold", "vo2max", "sweet_spot", "tempo"],
    ("peak", "pyramidal"): ["event", "vo2max", "threshold", "sweet_spot"],
    # polarised (Seiler): the hard sessions are above the second threshold, nothing in between
    ("base", "polarised"): ["vo2max", "vo2max", "anaerobic"],
    ("build", "polarised"): ["vo2max", "vo2max", "anaerobic"],
    ("peak", "polarised"): ["event", "vo2max", "vo2max"],
    ("base", "sweet_spot"): ["sweet_spot", "sweet_spot", "tempo", "sweet_spot"],
    ("build", "sweet_spot"): ["sweet_spot", "threshold", "vo2max", "sweet_spot"],
    ("peak", "sweet_spot"): ["event", "sweet_spot", "vo2max", "threshold"],
}
EVENT_KEY = {"criterium": "anaerobic", "time_trial": "threshold", "climbing_event": "sweet_spot",
             "road_race": "vo2max", "gran_fondo": "sweet_spot", "stage_race": "threshold"}
EVENT_SWAPS = {  # event emphasis in base and build: (replace, with)
    "criterium": [("sweet_spot", "anaerobic"), ("tempo", "sprint")],
    "time_trial": [("vo2max", "threshold"), ("sweet_spot", "threshold")],
    "road_race": [("tempo", "sprint")],
    "climbing_event": [("tempo", "sweet_spot")],
    "gran_fondo": [("vo2max", "sweet_spot")],
}
LONG_MAX = {"beginner": 180.0, "intermediate": 240.0, "advanced": 270.0, "elite": 300.0}
START_LEVEL = {"beginner": 1, "intermediate": 1, "advanced": 2, "elite": 2}
LEVEL_CAP = {"beginner": 3, "intermediate": 4, "advanced": 5, "elite": 6}  # the hardest progression step a rider gets


def progression_group(phase: str) -> str:
    """Progressions run within the base, and within build and peak together (Friel's build to race)."""
    return "base" if phase == "base" else "build"
RACE_IDS = ("road_race", "gran_fondo", "time_trial", "criterium", "stage_race", "climbing_event")


def key_sessions(phase: str, distribution: str, event: str | None, hours: float, level: str) -> list[str]:
    if phase not in LOADING_PHASES:
        return []
    keys = list(KEYS.get((phase, distribution), KEYS[(phase, "pyramidal")]))
    polar = distribution == "polarised"
    event_key = EVENT_KEY.get(event or "", "vo2max")
    if polar and event_key in ("sweet_spot", "tempo", "threshold"):
        event_key = "vo2max"
    keys = [event_key if k == "event" else k for k in keys]
    if phase != "peak":
        for old, new in EVENT_SWAPS.get(event or "", []):
            if polar and new in ("sweet_spot", "tempo", "threshold"):
                continue
            if phase == "base" and new in ("anaerobic", "vo2max"):
                continue  # the base stays aerobic: the race's top end comes in the build
            keys = [new if k == old else k for k in keys]
    if not polar:  # one of each kind before a second (the event's emphasis may repeat the phase's)
        keys = list(dict.fromkeys(keys)) + [k for i, k in enumerate(keys) if k in keys[:i]]
    n = 1 if hours < 4 else 2 if hours < 7 else 3 if hours < 12 else 4
    if distribution == "sweet_spot" and 4 <= hours < 7:
        n = 3  # few hours: more of them at sweet spot (TrainerRoad's low-volume plans)
    if polar:
        n = min(n, 2 if hours < 12 else 3)
    if level == "beginner":
        n = min(n, 2)
    return keys[:n]


def _explain(plan: dict, reasons: list[dict], summary: dict) -> None:
    """One sentence per week saying why it is what it is."""
    why_binding = {"first": "the first week starts near your current load",
                   "ramp": f"the ramp limit ({summary['ramp_pct']:g} % a week)",
                   "rule": "your ramp rule",
                   "ctl": f"the safe CTL ramp for your level ({summary['ctl_ramp_bound']:g} a week)",
                   "target": "your target CTL",
                   "hours": f"your {summary['weekly_hours']:.1f} h a week"}
    last = None
    for week, reason in zip(plan["weeks"], reasons, strict=False):
        tss, hours, phase = week["planned_tss"], week["planned_hours"], week["phase"]
        if reason["kind"] == "loading":
            ref = last if last is not None else reason["current"]
            what = "your current weekly load" if last is None else "the last loading week"
            change = f"{(tss / ref - 1) * 100:+.0f} % on {what}" if ref else "a first loading week"
            keys = ", ".join(dict.fromkeys(reason["keys"]))
            text = (f"{phase.capitalize()} week: {tss:.0f} TSS in {hours:.1f} h, {change}, set by "
                    f"{why_binding[reason['binding']]}" + (f"; key sessions: {keys}." if keys else "."))
            last = tss
        elif reason["kind"] == "recovery":
            share = tss / reason["ref"] * 100 if reason["ref"] else 0
            text = f"Recovery week: {share:.0f} % of the last loading week's load, so the training sinks in" + \
                ("; an FTP test at the end of the build block." if reason.get("test") else ".")
        else:
            train = sum(w["duration_min"] for w in week["workouts"] if not (w["type"] == "race" and
                                                                          w["target"].get("event")))
            drop = (1 - train / reason["ref_min"]) * 100 if reason.get("ref_min") else 0
            race = next((w for w in week["workouts"] if w["type"] == "race" and w["target"].get("event")), None)
            text = (f"{'Race week' if race else 'Taper'}: riding time {drop:.0f} % below the last loading week, "
                    "short intensity kept")
            if race:
                text += f"; openers the day before and the event on {date.fromisoformat(str(race['date'])[:10]):%a %d %b}."
            else:
                text += "."
        week["why"] = text


# ----------------------------------------------------------------------------------------------------------------
# Route climbs
# ----------------------------------------------------------------------------------------------------------------


def climb_share(duration_min: float) -> float:
    """The share of FTP a steady climb of this duration can be paced at (falls as the effort gets longer)."""
    for limit, share in ((5, 1.10), (10, 1.05), (20, 1.00), (40, 0.95), (60, 0.90)):
        if duration_min < limit:
            return share
    return 0.85


def climb_power(ftp_w: float, duration_min: float) -> float:
    """A steady pacing target (W) for a climb of this duration."""
    return round(ftp_w * climb_share(duration_min))


@dataclass
class Climb:
    name: str
    duration_min: float
    avg_grade_pct: float
    distance_m: float
    power_w: float = 0.0
    share: float = 1.0
