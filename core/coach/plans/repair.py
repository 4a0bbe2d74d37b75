"""The one repair pass: make a drafted plan obey every rule through ``RuleContext`` (never by reading constraint JSON),
keeping as much of the draft's intent (its weekly hours) as the rules allow. The periodisation engine ends with it,
and so do the AI path and plan edits: ``repair(weeks, phases, ctx, make, targets_h=…)``. Races are never moved,
changed or dropped (the event is exempt from every rule), nor are a rider's fixed sessions or the days a re-plan keeps.

Steps, repeated until the checker is satisfied (or a few rounds pass, then the caller refuses the plan):
1. fixed sessions placed on their dates (marked ``target.fixed``; never moved or changed afterwards);
2. per workout: a type the date does not allow falls back to an allowed one (or rest), session length within the
   date's bounds, indoors / outdoors as the venue rules say;
3. per week: caps and minimums per type or group, training days per week;
4. across weeks: runs of days (max_consecutive) and the days after a streak (day_after);
5. volume: top-up towards the draft's hours and the weekly minimum (so a rule never guts a week it does not cap),
   then the weekly maximum, the taper's volume drop, the recovery weeks' share and the ramp limits;
6. the engine's own load guard where no rule replaces it (``guard``: week 1 and each loading week within the
   engine's default ramp over the last loading week).

``make(day, kind, minutes, indoor, phase=…, like=None, exact=False)`` builds a workout dict the engine's way (TSS,
targets, description; ``core.coach.plans.weekbuild.workout_maker``); ``like`` is the workout being changed (to keep
its steps when the type stays), ``exact`` keeps the minutes as given (fixed sessions).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta

from core.coach.plans.check import RuleContext, _date, ramp_cap, weekly_ctl
from core.coach.plans.schema import MIN_SESSION_MIN
from core.coach.plans.weekbuild import fits_sequences, workout_maker
from core.coach.rules.model import LOADING_PHASES

Make = Callable[..., dict]
# how long a session of each type may grow when the week is topped up (rules may cap it lower)
TOP_UP_CEILING = {"long": 300, "endurance": 240, "tempo": 120, "sweet_spot": 120, "threshold": 110,
                  "vo2max": 90, "anaerobic": 90, "sprint": 90, "test": 90, "recovery": 60}
TOP_UP_TIERS = (("endurance", "long"), ("tempo", "sweet_spot", "threshold"), ("vo2max", "anaerobic", "sprint", "test",
                                                                           "recovery"))
UPGRADE_ORDER = ("sweet_spot", "threshold", "vo2max", "tempo", "endurance", "recovery", "anaerobic", "sprint", "long",
                 "test", "group_ride")


class _Repair:
    def __init__(self, weeks: list[list[dict]], phases: list[str], ctx: RuleContext, make: Make,
                 targets_h: list[float] | None, keep: frozenset[str] = frozenset()):
        self.weeks, self.phases, self.ctx, self.make = weeks, phases, ctx, make
        self.targets_h = targets_h
        self.keep = keep  # dates (ISO) a re-plan keeps as they were
        self._starts: dict[int, date] = {}  # a week's Monday (its dates never change)

    # --- helpers ------------------------------------------------------------------------------------------------
    def locked(self, w: dict) -> bool:
        """Never changed: races, the rider's fixed sessions, the days a re-plan keeps."""
        return w["type"] == "race" or bool((w.get("target") or {}).get("fixed")) or str(w["date"])[:10] in self.keep

    def start(self, wi: int) -> date:
        if wi not in self._starts:
            first = min(_date(w["date"]) for w in self.weeks[wi])
            self._starts[wi] = first - timedelta(days=first.weekday())
        return self._starts[wi]

    def set(self, wi: int, i: int, kind: str, minutes: float | None = None) -> None:
        """Change workout i of week wi to ``kind`` (minutes kept unless given), within the date's bounds."""
        w = self.weeks[wi][i]
        day, phase = _date(w["date"]), self.phases[wi]
        minutes = float(w["duration_min"] if minutes is None else minutes)
        if kind != "rest":
            high = self.ctx.max_minutes(day, phase, kind)
            low = math.ceil(self.ctx.min_minutes(day, phase, kind) / 5) * 5  # workouts are whole 5 minutes
            minutes = max(min(minutes, high), min(low, high))
            minutes = max(minutes, MIN_SESSION_MIN) if w["type"] == "rest" else minutes
        indoor = self.ctx.indoor(day, phase, kind)
        if kind == w["type"] and self.ctx.venue(day, phase, kind) is None:  # no rule decides: the draft's venue
            indoor = bool((w.get("target") or {}).get("indoor"))
        self.weeks[wi][i] = self.make(day, kind, minutes, indoor, phase=phase, like=w if kind == w["type"] else None)

    def hours(self, wi: int) -> float:
        return sum(w["duration_min"] for w in self.weeks[wi] if not self._event(w)) / 60

    def tss(self, wi: int) -> float:
        return sum(w["tss"] for w in self.weeks[wi] if not self._event(w))

    def _event(self, w: dict) -> bool:
        return w["type"] == "race" and _date(w["date"]) == self.ctx.event_date

    def training(self, wi: int) -> list[int]:
        """Indices of the week's non-locked training workouts (not rest, commute or the event)."""
        return [i for i, w in enumerate(self.weeks[wi]) if w["type"] not in ("rest", "commute") and not self.locked(w)]

    def plan(self) -> dict:
        return {"weeks": [{"week": n + 1, "start_date": self.start(n).isoformat(), "phase": self.phases[n],
                           "workouts": week} for n, week in enumerate(self.weeks)]}

    # --- 1. fixed sessions ----------------------------------------------------------------------------------------
    def place_fixed(self) -> None:
        for wi, week in enumerate(self.weeks):
            phase = self.phases[wi]
            for d in range(7):
                day = self.start(wi) + timedelta(days=d)
                if day.isoformat() in self.keep:
                    continue
                for c in self.ctx.fixed_sessions(day):
                    have = [w for w in week if _date(w["date"]) == day and w["type"] == c.workout_type and
                            (w.get("target") or {}).get("fixed")]
                    for _ in range(c.per_day - len(have)):
                        new = fixed_workout(self.ctx, self.make, day, phase, c)
                        main = next((i for i, w in enumerate(week) if _date(w["date"]) == day and
                                     w["type"] != "commute" and not self.locked(w)), None)
                        if c.workout_type == "commute" or main is None:
                            week.append(new)
                        else:
                            week[main] = new
            week.sort(key=lambda w: (str(w["date"]), w["type"] == "commute"))

    # --- 2. per workout -------------------------------------------------------------------------------------------
    def per_workout(self) -> None:
        for wi, week in enumerate(self.weeks):
            phase = self.phases[wi]
            week[:] = [w for w in week if not (w["type"] == "commute" and not self.locked(w) and
                                               self.ctx.unavailable(_date(w["date"])))]
            for i, w in enumerate(week):
                if self.locked(w) or w["type"] in ("rest", "commute"):
                    continue
                day, kind = _date(w["date"]), w["type"]
                if not self.ctx.allowed(day, phase, kind):
                    kind = self.ctx.fallback(day, phase)
                if kind == "rest":
                    self.set(wi, i, "rest", 0)
                    continue
                if kind != w["type"]:  # a long ride that may only be sweet spot here is not 4 h of sweet spot
                    self.set(wi, i, kind, min(w["duration_min"], TOP_UP_CEILING.get(kind, w["duration_min"])))
                    continue
                high, low = self.ctx.max_minutes(day, phase, kind), self.ctx.min_minutes(day, phase, kind)
                indoor = bool((w.get("target") or {}).get("indoor"))
                venue = self.ctx.venue(day, phase, kind)  # only a rule decides; the form's choice is the engine's
                if w["duration_min"] > high + 1e-6 or w["duration_min"] < low - 1e-6 or \
                        (venue is not None and indoor != (venue == "indoor")):
                    self.set(wi, i, kind)

    # --- 3. per week ----------------------------------------------------------------------------------------------
    def counts(self) -> None:
        for wi, week in enumerate(self.weeks):
            phase = self.phases[wi]
            for types, days, low, high in self.ctx.type_caps(phase):
                counted = [i for i, w in enumerate(week) if w["type"] in types and not self._event(w)
                           and _date(w["date"]).weekday() in days]
                if high is not None and len(counted) > high:
                    victims = [i for i in counted if not self.locked(week[i])]
                    victims.sort(key=lambda i: (week[i]["type"] == "long", -i))
                    for i in victims[:len(counted) - high]:
                        day = _date(week[i]["date"])
                        self.set(wi, i, self.ctx.fallback(day, phase, ("endurance", "recovery", "tempo"), types))
                if low is not None and len(counted) < low:
                    self._add_sessions(wi, types, days, low - len(counted), keep=self._needed(wi, types))
            for days, low, high in self.ctx.training_day_limits(phase):
                trained = [i for i in self.training(wi) if _date(week[i]["date"]).weekday() in days]
                locked_days = {_date(w["date"]) for w in week if self.locked(w) and w["type"] != "commute"
                               and not self._event(w) and _date(w["date"]).weekday() in days}
                if high is not None and len(trained) + len(locked_days) > high:
                    trained.sort(key=lambda i: (week[i]["type"] == "long", week[i]["duration_min"]))
                    for i in trained[:len(trained) + len(locked_days) - high]:
                        self.set(wi, i, "rest", 0)
                if low is not None and len(trained) + len(locked_days) < low:
                    self._add_sessions(wi, self.ctx.types(["easy"]), days, low - len(trained) - len(locked_days),
                                       rest_only=True)

    def _hard_near(self, wi: int, day: date) -> bool:
        near = {day - timedelta(days=1), day + timedelta(days=1)}
        return any(_date(w["date"]) in near and w["type"] in self.ctx.hard for week in self.weeks for w in week)

    def fits_sequences(self, day: date, kind: str) -> bool:
        """Would a workout of ``kind`` on ``day`` keep the day-after and in-a-row rules (as the plan stands)?"""
        types_on: dict[date, set[str]] = {}
        for week in self.weeks:
            for w in week:
                if w["type"] not in ("rest", "commute") and not self._event(w):
                    types_on.setdefault(_date(w["date"]), set()).add(w["type"])
        return fits_sequences(self.ctx, types_on, day, kind)

    def fill_rest_days(self, wi: int, minutes: float) -> None:
        """Ride on free rest days (endurance) when the week is short of its hours and the rules allow another day."""
        week, phase = self.weeks[wi], self.phases[wi]
        for i, w in enumerate(week):
            if minutes <= 0:
                return
            day = _date(w["date"])
            if w["type"] != "rest" or any(x["type"] not in ("rest", "commute") for x in week
                                          if _date(x["date"]) == day) or not self.ctx.allowed(day, phase, "endurance"):
                continue
            trained = {_date(x["date"]) for x in week if x["type"] not in ("rest", "commute")}
            if any(day.weekday() in days and high is not None and
                   len({d for d in trained if d.weekday() in days}) >= high
                   for days, _, high in self.ctx.training_day_limits(phase)):
                continue
            if not self.fits_sequences(day, "endurance"):
                continue
            length = max(45.0, min(minutes, 120.0, self.ctx.max_minutes(day, phase, "endurance")))
            self.set(wi, i, "endurance", length)
            minutes -= week[i]["duration_min"]

    def _needed(self, wi: int, but: frozenset[str]) -> frozenset[str]:
        """Types another minimum of this week still needs every session of (they are not converted away)."""
        week, out = self.weeks[wi], set()
        for types, days, low, _ in self.ctx.type_caps(self.phases[wi]):
            if low is not None and types != but and sum(1 for w in week if w["type"] in types and not self._event(w)
                                                        and _date(w["date"]).weekday() in days) <= low:
                out |= types
        return frozenset(out)

    def _add_sessions(self, wi: int, types: frozenset[str], days: set[int], n: int, rest_only: bool = False,
                      keep: frozenset[str] = frozenset()) -> None:
        """Turn n workouts (or rest days) on ``days`` into sessions of ``types``, away from hard days if possible;
        workouts of ``keep`` types are left alone."""
        week, phase = self.weeks[wi], self.phases[wi]
        order = [t for t in UPGRADE_ORDER if t in types]
        candidates = []
        for i, w in enumerate(week):
            day = _date(w["date"])
            if self.locked(w) or w["type"] in types or w["type"] in keep or w["type"] in ("commute", "race") or \
                    day.weekday() not in days or (rest_only and w["type"] != "rest"):
                continue
            if w["type"] == "rest" and any(x["type"] not in ("rest", "commute") for x in week
                                           if _date(x["date"]) == day):
                continue
            kind = next((t for t in order if self.ctx.allowed(day, phase, t) and self.fits_sequences(day, t)), None)
            if kind is not None:  # the long ride and hard days change last
                busy = (w["type"] == "long", w["type"] in self.ctx.hard or w["type"] == "rest")
                candidates.append((busy, self._hard_near(wi, day) and kind in self.ctx.hard, i, kind))
        for *_, i, kind in sorted(candidates)[:n]:
            self.set(wi, i, kind, week[i]["duration_min"] if week[i]["type"] != "rest" else 60)

    # --- 4. across weeks ------------------------------------------------------------------------------------------
    def _by_date(self) -> dict[date, list[tuple[int, int]]]:
        out: dict[date, list[tuple[int, int]]] = {}
        for wi, week in enumerate(self.weeks):
            for i, w in enumerate(week):
                out.setdefault(_date(w["date"]), []).append((wi, i))
        return out

    def _hitting(self, where: list[tuple[int, int]], types: frozenset[str]) -> list[tuple[int, int]]:
        return [(wi, i) for wi, i in where if self.weeks[wi][i]["type"] in types and
                not self._event(self.weeks[wi][i]) and self.weeks[wi][i]["type"] != "commute"]

    def _downgrade(self, places: list[tuple[int, int]], avoid: frozenset[str]) -> bool:
        changed = False
        for wi, i in places:
            w = self.weeks[wi][i]
            if self.locked(w):
                continue
            day = _date(w["date"])
            self.set(wi, i, self.ctx.fallback(day, self.phases[wi], ("endurance", "recovery"), avoid))
            changed = True
        return changed

    def sequences(self) -> bool:
        by_date = self._by_date()
        dates = sorted(by_date)
        for types, limit in self.ctx.runs:
            run: list[date] = []
            for day in dates:
                hits = self._hitting(by_date[day], types)
                run = run + [day] if hits else []
                if len(run) > limit:
                    for victim in reversed(run):
                        if self._downgrade(self._hitting(by_date[victim], types), types):
                            return True
        for trigger, streak, allowed, following in self.ctx.after_rules:
            run = []
            for n, day in enumerate(dates):
                run = run + [day] if self._hitting(by_date[day], trigger) else []
                if len(run) < streak:
                    continue
                for nxt in dates[n + 1:n + 1 + following]:
                    if (nxt - day).days > following:
                        break
                    bad = [(wi, i) for wi, i in by_date[nxt] if self.weeks[wi][i]["type"] not in allowed and
                           not self._event(self.weeks[wi][i])]
                    if not bad:
                        continue
                    if any(self.locked(self.weeks[wi][i]) or self._event(self.weeks[wi][i]) for wi, i in bad):
                        for victim in reversed(run):
                            if self._downgrade(self._hitting(by_date[victim], trigger), trigger):
                                return True
                        continue
                    for wi, i in bad:
                        phase, when = self.phases[wi], _date(self.weeks[wi][i]["date"])
                        order = [t for t in ("endurance", "recovery") if t in allowed] + ["rest"]
                        kind = self.ctx.fallback(when, phase, tuple(order))
                        self.set(wi, i, kind, min(self.weeks[wi][i]["duration_min"], 60) if kind == "recovery"
                                 else None)
                    return True
        return False

    # --- 5. volume ------------------------------------------------------------------------------------------------
    def top_up(self, wi: int, minutes: float) -> None:
        """Add about ``minutes`` to the week's training sessions that still have room, 5 minutes at a time:
        endurance and the long ride first, then tempo and sweet spot, the hardest sessions last."""
        week, phase = self.weeks[wi], self.phases[wi]
        room, added = {}, {}
        for i in self.training(wi):
            w = week[i]
            ceiling = min(TOP_UP_CEILING.get(w["type"], 0), self.ctx.max_minutes(_date(w["date"]), phase, w["type"]))
            if ceiling > w["duration_min"]:
                room[i], added[i] = ceiling - w["duration_min"], 0.0
        for tier in TOP_UP_TIERS:
            order = [i for i in room if week[i]["type"] in tier]
            while minutes > 0 and order:
                for i in list(order):
                    if room[i] - added[i] < 5.0:
                        order.remove(i)
                        continue
                    added[i] += 5.0
                    minutes -= 5.0
                    if minutes <= 0:
                        break
        for i, extra in added.items():
            if extra:
                self.set(wi, i, week[i]["type"], week[i]["duration_min"] + extra)

    def scale_to(self, wi: int, *, hours: float | None = None, tss: float | None = None) -> None:
        """Shorten the week's non-locked sessions until its hours (or TSS) are at most the given value: in
        proportion, then 5-minute steps given back while the week stays within the value (so rounding never costs
        more than a step per session)."""
        by_tss = hours is None
        goal = tss if by_tss else hours

        def total() -> float:
            return self.tss(wi) if by_tss else self.hours(wi)

        if total() <= goal + 1e-6:
            return
        scalable = self.training(wi)
        week, phase = self.weeks[wi], self.phases[wi]
        before = {i: (week[i]["type"], week[i]["duration_min"], week[i]["tss"] / max(1.0, week[i]["duration_min"]))
                  for i in scalable}
        part = sum(week[i]["tss"] if by_tss else week[i]["duration_min"] / 60 for i in scalable)
        if part <= 0:
            return
        factor = max(0.0, (goal - (total() - part)) / part)
        planned = {}
        for i in scalable:
            kind, minutes, _ = before[i]
            day = _date(week[i]["date"])
            new = math.floor(minutes * factor / 5) * 5
            floor = math.ceil(self.ctx.min_minutes(day, phase, kind) / 5) * 5
            planned[i] = floor if new < max(MIN_SESSION_MIN, floor) and floor else (new if new >= MIN_SESSION_MIN
                                                                                    else 0.0)
        value = total() - part + sum(planned[i] * (before[i][2] if by_tss else 1 / 60) for i in scalable)
        for i in sorted(scalable, key=lambda i: -before[i][1]):  # give back 5-minute steps, longest first
            step_value = 5 * (before[i][2] if by_tss else 1 / 60)
            while planned[i] and planned[i] + 5 <= before[i][1] and value + step_value <= goal + 1e-9:
                planned[i] += 5
                value += step_value
        for i in scalable:
            if planned[i] != before[i][1]:
                self.set(wi, i, before[i][0] if planned[i] else "rest", planned[i])

    def volume(self) -> None:
        ctx = self.ctx
        for wi in range(len(self.weeks)):
            phase = self.phases[wi]
            bounds = ctx.weekly_bounds(phase)
            want = max(filter(None, [self.targets_h[wi] if self.targets_h else None, bounds["min_hours"]]),
                       default=None)
            if bounds["max_hours"] is not None and want is not None:
                want = min(want, bounds["max_hours"])
            if want is not None and self.hours(wi) < want - 0.04:
                self.top_up(wi, (want - self.hours(wi)) * 60)
            if want is not None and self.hours(wi) < 0.9 * want:
                self.fill_rest_days(wi, (want - self.hours(wi)) * 60)
                self.top_up(wi, (want - self.hours(wi)) * 60)
            if bounds["min_hours"] is not None and self.hours(wi) < bounds["min_hours"] - 0.01:
                self._add_sessions(wi, frozenset({"endurance"}), set(range(7)), 7, rest_only=True)
                self.top_up(wi, (bounds["min_hours"] - self.hours(wi)) * 60)
            if bounds["min_tss"] is not None and self.tss(wi) < bounds["min_tss"]:
                self.top_up(wi, (bounds["min_tss"] - self.tss(wi)) / 0.75)  # ≈ 0.77 TSS a minute at endurance IF
            if bounds["max_hours"] is not None:
                self.scale_to(wi, hours=bounds["max_hours"])
            if bounds["max_tss"] is not None:
                self.scale_to(wi, tss=bounds["max_tss"])
        loading = [wi for wi, p in enumerate(self.phases) if p in LOADING_PHASES]
        drop = ctx.taper_drop_pct
        for wi, phase in enumerate(self.phases):
            before = [x for x in loading if x < wi]
            if phase == "taper" and drop and before:
                self.scale_to(wi, hours=self.hours(before[-1]) * (1 - drop / 100))
            cadence = ctx.recovery_cadence
            if phase == "recovery" and cadence and cadence.recovery_load_pct and before:
                self.scale_to(wi, tss=self.tss(before[-1]) * cadence.recovery_load_pct / 100)
        self.ramp()

    def ramp(self) -> None:
        rules = [c for c in self.ctx.ramps if c.metric != "ctl"]
        references = {id(c): self.ctx.baseline(c.metric) for c in rules}
        for wi, phase in enumerate(self.phases):
            if phase not in LOADING_PHASES:
                continue
            for c in rules:
                reference = references[id(c)]
                if reference is not None:
                    cap = ramp_cap(c, reference)
                    self.scale_to(wi, **({"tss": cap} if c.metric == "tss" else {"hours": cap}))
            for c in rules:
                references[id(c)] = self.tss(wi) if c.metric == "tss" else self.hours(wi)
        for c in self.ctx.ramps:
            if c.metric == "ctl":
                self._ctl_ramp(c.limit)

    def _ctl_ramp(self, limit: float) -> None:
        from core.coach.plans.check import plan_view

        for wi in range(len(self.weeks)):
            for _ in range(12):
                ctl = weekly_ctl(plan_view(self.plan(), self.ctx.event_date), self.ctx.ctl0 or 0.0)
                before = ctl[wi - 1] if wi else (self.ctx.ctl0 or 0.0)
                if ctl[wi] - before <= limit:
                    break
                self.scale_to(wi, tss=self.tss(wi) * 0.9)


    # --- 6. the engine's own load guard ------------------------------------------------------------------------
    def guard(self, ramp: float, first_cap: float | None, last: float | None = None) -> None:
        """No loading week above ``1 + ramp`` times the last loading week's TSS, week 1 within ``first_cap`` (the
        event not counted; races, fixed sessions and kept days are not moved). Recovery and taper weeks are the
        engine's own shares and stay as they are."""
        for wi, phase in enumerate(self.phases):
            limit = last * (1 + ramp) if last is not None else float("inf")
            if wi == 0 and first_cap is not None:
                limit = min(limit, first_cap)
            if limit < float("inf") and self.tss(wi) > limit:
                before = list(self.weeks[wi])
                self.scale_to(wi, tss=limit)
                bounds = self.ctx.weekly_bounds(phase)
                if (bounds["min_hours"] is not None and self.hours(wi) < bounds["min_hours"] - 0.01) or \
                        (bounds["min_tss"] is not None and self.tss(wi) < bounds["min_tss"]):
                    self.weeks[wi][:] = before  # a rule's weekly minimum outranks the engine's default guard
            away = any(self.ctx.unavailable(self.start(wi) + timedelta(days=d)) for d in range(7))
            if phase in LOADING_PHASES and away and last is None and first_cap is not None:
                last = max(self.tss(wi), first_cap)  # a first week cut short by days away: its aim is the reference
            elif phase in LOADING_PHASES and not (away and last is not None and self.tss(wi) < last):
                last = self.tss(wi)  # a week the rider is away is no reference for the next


def fixed_workout(ctx: RuleContext, make: Make, day: date, phase: str | None, c) -> dict:
    """The rider's fixed session ``c`` on ``day`` (its minutes exactly, its venue, marked ``target.fixed``)."""
    indoor = c.indoor if c.indoor is not None else \
        (False if c.workout_type == "commute" else ctx.indoor(day, phase, c.workout_type))
    new = make(day, c.workout_type, c.duration_min, bool(indoor), phase=phase or "build", exact=True)
    new["target"] = dict(new.get("target") or {}, fixed=True)
    new["description"] = f"Your fixed session: {new['description']}"[:1000]
    return new


def repair(weeks: list[list[dict]], phases: list[str], ctx: RuleContext, make: Make | None = None, *,
           targets_h: list[float] | None = None, rounds: int = 8, keep=(),
           guard: tuple[float, float | None, float | None] | None = None) -> list[list[dict]]:
    """Make ``weeks`` (lists of workout dicts, one list per plan week, in place) obey every rule of ``ctx``;
    ``make`` defaults to the workout library's (``weekbuild.workout_maker``), ``keep`` are ISO dates left as they are,
    ``guard`` the engine's (ramp, week-1 cap, last loading TSS) where no rule replaces it.
    Returns the weeks; the caller checks the result (``ctx.check``) and refuses what could not be repaired."""
    fixer = _Repair(weeks, phases, ctx, make or workout_maker(ctx), targets_h, frozenset(keep))
    for _ in range(rounds):
        fixer.place_fixed()
        fixer.per_workout()
        fixer.counts()
        for _ in range(60):
            if not fixer.sequences():
                break
        fixer.volume()
        if guard is not None:
            fixer.guard(*guard)
        if not ctx.check(fixer.plan()):
            break
    return weeks
