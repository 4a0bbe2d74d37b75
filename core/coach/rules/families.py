"""The rule families of the clause grammar (see ``core.coach.rules.frames``): each ``read_*`` returns the
constraints of one clause (JSON dicts), ``None`` when the clause is not of its family, or raises ``Refusal``.
``FAMILIES`` lists them in the order they are tried (the most specific head words first)."""

from __future__ import annotations

from datetime import date

from core.coach.rules.frames import (
    EASY_TYPES,
    WEEKDAY_LIST,
    Clause,
    Refusal,
    complement,
    constraint_for_days,
)
from core.coach.rules.model import DAYS

_ASK_DAYS = "Name the day(s), e.g. “rest on Fridays” or “long ride on Saturday”."


def _scope(c: Clause, *, taper_is_phase=True):
    days, except_days = c.days()
    phases = c.phases(taper_is_phase=taper_is_phase)
    window = c.window()
    return c.label_scope(days, except_days, phases, window)


def read_refusals(c: Clause):
    """Permissions, conditions and slash dates are never rules."""
    if c.has("permit"):
        raise Refusal("not_a_constraint", "That reads as a permission, not a rule. Say what to limit, e.g. “no more "
                                          "than 2 hard days in a row”.")
    if c.has("cond"):
        raise Refusal("not_representable", "Rules cannot depend on conditions (weather, feel, “sometimes”); state "
                                           "the rule that always applies, e.g. “long ride on Saturday”.")
    if c.has("slashdate"):
        raise Refusal("ambiguous", "Is 5/4 the 5th of April or May 4th? Write the month, e.g. “away 5–12 April”.")
    if c.has("tod") and not c.has("fixed"):
        raise Refusal("not_representable", "Times of day are not part of the plan; leave them out, e.g. “max 1 "
                                           "hour on Tuesdays”.")
    return None


def read_dates(c: Clause):
    months = c.of("month")
    isodates = c.of("date")
    if not months and not isodates:
        return None
    if isodates:
        if len(isodates) != 2:
            raise Refusal("too_vague", "Give a start and an end date, e.g. “away 2025-07-01 to 2025-07-10”.")
        start, end = isodates[0].value, isodates[1].value
        c.use(isodates)
    else:
        pairs = []  # (month, day)
        nums = [t for t in c.tokens if t.cls in ("num", "ordinal", "range")]
        if len(months) == 1:
            m = months[0].value
            days = []
            for t in nums:
                days.extend(t.value if t.cls == "range" else [t.value])
            if len(days) != 2:
                raise Refusal("too_vague", "Give the first and the last day, e.g. “away 14–21 April”.")
            pairs = [(m, int(days[0])), (m, int(days[1]))]
        elif len(months) == 2 and len(nums) == 2:
            pairs = [(months[0].value, int(nums[0].value)), (months[1].value, int(nums[1].value))]
        else:
            raise Refusal("too_vague", "Give the first and the last day, e.g. “away 14–21 April”.")
        c.use(months, nums)
        year = c.carry.today.year
        try:
            start = date(year, *pairs[0])
            end = date(year if pairs[1][0] >= pairs[0][0] else year + 1, *pairs[1])
        except ValueError:
            raise Refusal("out_of_range", "That date does not exist; check the day and the month.") from None
        if end < c.carry.today:
            start, end = start.replace(year=year + 1), end.replace(year=end.year + 1)
    c.use("unavail", "off", "rest", "rides", "train", "possible", "between", "neg")
    return [{"kind": "unavailable_dates", "start": start.isoformat(), "end": end.isoformat()}]


def read_taper(c: Clause):
    taper = c.first("taper")
    if taper is None or c.has("type") or c.has("venue") or c.has("fixed") or c.has("rides") or \
            any(t.unit in ("min", "km", "mi", "tss") for t in c.of("qty")):
        return None  # "max 2 hours per ride during the taper": the taper is a phase here
    c.use(taper)
    qty = [t for t in c.of("qty") if t.unit in ("days", "weeks")]
    if c.has("neg") and not qty:
        c.use("neg")
        return [{"kind": "taper", "length_days": 0}]
    if len(qty) != 1:
        raise Refusal("too_vague", "How long a taper? e.g. “taper the last 2 weeks before my race”.")
    c.use(qty, "last", "event", "train")
    days = qty[0].value * (7 if qty[0].unit == "weeks" else 1)
    out = {"kind": "taper", "length_days": int(round(days))}
    pct = [t for t in c.of("qty") if t.unit == "pct"]
    if pct:  # "Taper 2 weeks, 40% less volume"
        if not c.has("drop"):
            raise Refusal("too_vague", "Is that the volume drop? e.g. “taper 2 weeks, 40 % less volume”.")
        c.use(pct, "drop", "metric")
        out["volume_drop_pct"] = pct[0].value
    return [out]


def _every(c: Clause) -> bool:
    return any(t.text.lower().startswith("every") for t in c.tokens)


def read_cadence(c: Clause):
    recovery_phase = [t for t in c.of("phase") if t.value == ("recovery",)]
    cues = c.of("cadence") + c.of("ratio") + recovery_phase
    if _every(c) and c.has("ordinal") and c.has("period"):
        cues.append(c.first("ordinal"))  # "every third week easy"
    weeks_with_role = [t for t in c.of("qty") if t.unit == "weeks" and _role(c.neighbour(t, 1))]
    if len(weeks_with_role) >= 2:
        cues.extend(weeks_with_role)  # "2 weeks hard, 1 week easy"
    if weeks_with_role and any(t.cls == "type" for t in c.tokens) and len(weeks_with_role) < 2:
        return None
    if not cues or c.has("type", ("hard",)) and not c.has("cadence") and not recovery_phase:
        return None
    if c.has("type") and not (recovery_phase and not c.has("neg")) and not c.has("cadence") \
            and len(weeks_with_role) < 2:
        return None
    if any(t.cls == "type" and t.value not in (("easy",), ("hard",)) for t in c.tokens):
        return None
    ratio = c.first("ratio")
    if ratio is not None:
        c.use(ratio, "cadence")
        return [{"kind": "recovery_cadence", "load_weeks": ratio.value[0], "recovery_weeks": ratio.value[1]}]
    if c.has("cadence", "fortnightly"):
        c.use("cadence", recovery_phase, "rest")
        return [{"kind": "recovery_cadence", "load_weeks": 1, "recovery_weeks": 1}]
    share = _recovery_share(c)
    ordinal = c.first("ordinal")
    weeks_qty = [t for t in c.of("qty") if t.unit == "weeks"]
    if _every(c) and (ordinal or weeks_qty) and not c.has("seq", "after"):
        n = ordinal.value if ordinal else int(weeks_qty[0].value)
        c.use([t for t in (ordinal,) if t], weeks_qty, recovery_phase, "period", "rest", "type", "off", "cadence")
        if n < 2:
            raise Refusal("out_of_range", "Every how many weeks? e.g. “recovery week every 4th week”.")
        return [{"kind": "recovery_cadence", "load_weeks": n - 1, "recovery_weeks": 1, **share}]
    # numbers with a role: "3 weeks on, 1 week off", "Build 3 weeks, recover 1", "two recovery weeks after every
    # four loading weeks", "3 weeks build then 1 easy week"; the role word next to the number in its own fragment
    load = rec = None
    for t in c.tokens:
        if t.cls not in ("num", "qty") or (t.cls == "qty" and t.unit != "weeks"):
            continue
        role = _role(c.neighbour(t, 1)) or _role(c.neighbour(t, -1))
        if role == "load" and load is None:
            load = t
        elif role == "rec" and rec is None:
            rec = t
    if rec is None and load is not None and recovery_phase and c.has("seq", "after"):
        rec = recovery_phase[0]  # "an easy week after every 3 hard weeks"
        rec_value = 1
    else:
        rec_value = None
    if load is None or rec is None:
        if c.has("cadence"):
            raise Refusal("too_vague", "Say both parts, e.g. “3 weeks on, 1 week off”.")
        return None
    weeks = load.cls == "qty" or rec.cls == "qty" or recovery_phase or c.has("period") or any(
        "week" in t.text.lower() for t in c.of("cadence"))
    if not weeks:
        raise Refusal("ambiguous", "Weeks or days? Write e.g. “3 weeks on, 1 week off”.")
    c.use(load, rec, "cadence", recovery_phase, "phase", "rest", "recovery_word", "seq", "type", "period")
    return [{"kind": "recovery_cadence", "load_weeks": int(load.value),
             "recovery_weeks": int(rec_value or rec.value), **share}]


def _recovery_share(c: Clause) -> dict:
    """"recovery weeks at 60 % of the load" → recovery_load_pct 60; a percentage with no load word is refused."""
    pct = [t for t in c.of("qty") if t.unit == "pct"]
    if not pct:
        return {}
    if not c.has("metric", "tss") and not c.has("drop"):
        raise Refusal("too_vague", "A percentage of what? e.g. “recovery weeks at 60 % of the load”.")
    c.use(pct, "metric")
    value = pct[0].value
    if c.has("drop"):
        c.use("drop")
        value = 100 - value
    return {"recovery_load_pct": value}


def _role(t) -> str | None:
    if t is None:
        return None
    if t.cls == "cadence" and t.value in ("on", "load") or t.cls == "phase" and t.value == ("build",) \
            or t.cls == "type" and t.value == ("hard",):
        return "load"
    if t.cls == "cadence" and t.value == "off" or t.cls == "phase" and t.value == ("recovery",) \
            or t.cls in ("rest", "recovery_word") or t.cls == "type" and t.value == ("easy",):
        return "rec"
    return None


def read_ramp(c: Clause):
    ramp = c.of("ramp")
    if not ramp:
        return None
    pct = [t for t in c.of("qty") if t.unit == "pct"]
    time = [t for t in c.of("qty") if t.unit == "min"]
    tss = [t for t in c.of("qty") if t.unit == "tss"]
    nums = c.of("num")
    metric = c.first("metric")
    c.use(ramp)
    modal = c.modality()
    if modal not in ("max", None):
        raise Refusal("too_vague", "A ramp is a maximum, e.g. “weekly load up at most 5 % a week”.")
    if modal is None and not any(t.text.lower().startswith("ramp") for t in ramp):
        raise Refusal("too_vague", "Is that a limit? Write e.g. “don't increase weekly load by more than 6 %”.")
    c.use("neg", "period")
    if pct:
        c.use(pct[0])
        m = metric.value if metric else "tss"
        if m == "distance":
            raise Refusal("not_representable", "Ramps are in TSS, hours or CTL, e.g. “weekly hours up at most "
                                               "10 %”.")
        c.use("metric")
        return [{"kind": "ramp_limit", "metric": "hours" if m == "hours" else m if m != "ctl" else "tss",
                 "limit": pct[0].value, "unit": "pct"}] if m != "ctl" else None
    if time:
        c.use(time[0], "metric")
        return [{"kind": "ramp_limit", "metric": "hours", "limit": round(time[0].value / 60, 2), "unit": "abs"}]
    if tss or (nums and metric is not None and metric.value in ("tss", "ctl")):
        value = (tss or nums)[0]
        c.use(value, "metric")
        return [{"kind": "ramp_limit", "metric": metric.value if metric is not None and metric.value == "ctl"
                 else "tss", "limit": value.value, "unit": "abs"}]
    raise Refusal("ambiguous", "A ramp of what? Write e.g. “ramp at most 5 % a week” or “CTL up at most 5 points "
                               "a week”.")


def read_sequence(c: Clause):
    seqs = c.of("seq")
    if not seqs and not (c.has("between") and c.has("qty") and c.has("type")):
        return None
    kinds = {t.value for t in seqs}
    if "before" in kinds and not c.has("event"):
        raise Refusal("not_representable", "Rules relative to a later workout are not supported; name days instead, "
                                           "e.g. “no hard workouts on Fridays”.")
    if seqs and kinds <= {"before"}:
        return None
    if kinds == {"then"} and not c.has("rest") and not c.has("off"):
        return None
    if c.has("except"):
        raise Refusal("not_representable", "Exceptions to a back-to-back rule cannot be kept; write the rule "
                                           "without the exception or name the days.")
    if "b2b" in kinds and "after" not in kinds and "next" not in kinds or "apart" in kinds or \
            c.has("between") and c.has("qty"):
        return _read_run(c)
    if "then" in kinds and c.carry.kind == "max_consecutive" and (c.has("rest") or c.has("off")):
        c.use("seq", "rest", "off")
        c.carried = True
        return [{"kind": "day_after", "trigger": c.carry.types, "streak": c.carry.limit or 1, "then": "rest"}]
    if "after" in kinds or "next" in kinds:
        return _read_day_after(c)
    return None


def _read_run(c: Clause):
    c.use("seq")
    if c.has("rest") or c.has("off"):
        raise Refusal("not_representable", "Runs of rest days are not supported; write e.g. “at least one rest day "
                                           "per week”.")
    if c.has("between") or c.has("seq", "apart"):
        hours = [t for t in c.of("qty") if t.unit == "min"]
        if len(hours) != 1 or not 24 * 60 < hours[0].value <= 48 * 60:
            raise Refusal("not_representable", "Only 48 hours apart (never on consecutive days) can be planned.")
        c.use(hours, "between", "min", "lt", "neg")
        types = c.types() or c.carry.types
        if not types:
            raise Refusal("too_vague", "Between which workouts? e.g. “48 hours between hard sessions”.")
        return [{"kind": "max_consecutive", "types": types, "limit": 1}]
    types = c.types()
    if not types and (c.has("days") or c.has("rides") or c.has("train")):
        types = ["any"]
    if not types and c.carry.types:
        types = list(c.carry.types)
        c.carried = True
    if not types:
        raise Refusal("too_vague", "Which workouts? e.g. “never hard days back to back”.")
    c.use("days", "rides", "train")
    counts = c.of("num", "count") + [t for t in c.of("qty") if t.unit == "days"]
    modal = c.modality()
    neg = c.of("neg")
    if counts:
        n = int(counts[0].value)
        c.use(counts[0])
        if modal == "max":
            limit = n
        elif modal is None and neg:
            c.use(neg)
            limit = n - 1
        else:
            raise Refusal("ambiguous", "Is that a limit? Write e.g. “no more than 2 hard days in a row”.")
    else:
        if not neg and modal is None:
            raise Refusal("not_a_constraint", "Say what to avoid, e.g. “never hard days back to back”.")
        c.use(neg)
        limit = 1
    c.carry.limit, c.carry.kind, c.carry.types = limit, "max_consecutive", types
    return [{"kind": "max_consecutive", "types": types, "limit": limit}]


def _read_day_after(c: Clause):
    """"rest day after a hard day", "Two easy days after a race", "after 3 hard days I need 2 days rest",
    "Keep the day after the group ride easy"; "never go hard the day after a hard day" = max_consecutive."""
    tokens = c.tokens
    markers = [i for i, t in enumerate(tokens) if t.cls == "seq" and t.value in ("after", "next")]
    trigger_idx: set[int] = set()
    trigger: list[str] = []
    streak_tok = None
    for m in markers:
        for k in range(m + 1, len(tokens)):
            t = tokens[k]
            if t.cls == "seq" and t.value in ("after", "next", "then"):
                break
            if t.cls == "type" and not (set(t.value) & EASY_TYPES):
                trigger.extend(t.value)
                trigger_idx.add(k)
            elif t.cls == "fixed" and t.value == "group":
                trigger.append("group_ride")
                trigger_idx.add(k)
            elif t.cls in ("num", "count") and streak_tok is None:
                streak_tok = t
                trigger_idx.add(k)
            elif t.cls in ("days", "rides", "train") and not trigger:
                trigger_idx.add(k)
            elif t.cls == "seq" and t.value == "b2b":
                trigger_idx.add(k)
            elif t.cls == "ref" and c.carry.types:
                trigger.extend(c.carry.types)
                trigger_idx.add(k)
                c.carried = True
            elif t.cls in ("type", "rest", "off", "recovery_word", "easy_marker"):
                break
    if not trigger and any(tokens[k].cls in ("days", "rides", "train") for k in trigger_idx):
        trigger = ["any"]
    if not trigger:
        raise Refusal("too_vague", "After which workouts? e.g. “an easy day after every hard day”.")
    then = None
    following = None
    rest_side = [t for k, t in enumerate(tokens) if k not in trigger_idx]
    if any(t.cls in ("rest", "off") for t in rest_side):
        then = "rest"
    if any(t.cls == "recovery_word" or t.cls == "type" and t.value == ("recovery",) for t in rest_side):
        then = "recovery" if then is None else then
    if any(t.cls == "type" and set(t.value) & {"easy", "endurance"} for t in rest_side):
        then = "easy"
    hard_after = [t for t in rest_side if t.cls == "type" and not set(t.value) & EASY_TYPES]
    neg = c.of("neg")
    if hard_after and neg and then is None:
        if sorted(set(x for t in hard_after for x in t.value)) != sorted(set(trigger)):
            raise Refusal("ambiguous", "Write it as “never hard days back to back”.")
        c.use(hard_after, neg, "seq")
        c.used.update(trigger_idx)
        return [{"kind": "max_consecutive", "types": trigger, "limit": 1}]
    if then is None or hard_after:
        raise Refusal("too_vague", "What should the day after be? e.g. “a rest day after every hard day”.")
    counts = [t for t in rest_side if t.cls in ("num", "count") or t.cls == "qty" and t.unit == "days"]
    if counts:
        following = int(counts[0].value)
        c.use(counts[0])
    c.used.update(trigger_idx)
    c.use("seq", "rest", "off", "recovery_word", "keep", "min", "label_eq")
    c.use([t for t in rest_side if t.cls == "type"])
    streak = int(streak_tok.value) if streak_tok is not None else 1
    if trigger == ["any"] and then == "rest" and (following or 1) == 1:
        return [{"kind": "max_consecutive", "types": ["any"], "limit": streak}]
    out = {"kind": "day_after", "trigger": list(dict.fromkeys(trigger)), "streak": streak, "then": then}
    if following:
        out["following_days"] = following
    return [out]


def read_fixed(c: Clause):
    fixed = [t for t in c.of("fixed")]
    if not fixed:
        return None
    if c.has("neg") and not c.has("easy_marker") or c.has("only"):
        return None  # "no group rides on Sundays" is a ban
    value = fixed[0].value
    c.use(fixed)
    days, except_days = c.days()
    days = [d for d in (days or DAYS) if d not in except_days] if days or except_days else []
    if not days:
        raise Refusal("too_vague", "On which day(s)? e.g. “hard group ride every Thursday, 2 hours”.")
    if c.has("range"):
        raise Refusal("ambiguous", "How long exactly? Give one duration, e.g. “group ride on Saturdays, 3.5 h”.")
    durations = [t for t in c.of("qty") if t.unit == "min"]
    if any(t.unit in ("km", "mi") for t in c.of("qty")):
        raise Refusal("not_representable", "Commutes are planned in time: write e.g. “commute 30 min each way "
                                           "Mon–Fri”.")
    if len(durations) != 1:
        raise Refusal("too_vague", "How long is it? e.g. “hard group ride every Thursday, about 2 hours”.")
    c.use(durations, "approx", "tod", "train", "rides")
    out = {"kind": "fixed_session", "days": days, "duration_min": durations[0].value}
    if value == "commute":
        way = c.first("way")
        if way is None:
            raise Refusal("ambiguous", "Is that each way or the round trip? e.g. “commute 25 min each way on "
                                       "Mondays and Fridays”.")
        c.use(way)
        out |= {"workout_type": "commute", "per_day": 2 if way.value == "each" else 1}
        return [out]
    easy = c.has("easy_marker") or c.has("type", ("easy",)) or c.has("type", ("endurance",))
    hard = c.has("type", ("hard",))
    if easy and hard:
        c.use("neg")
    c.use("easy_marker", "type", "venue", "neg" if easy else "easy_marker")
    if c.has("venue", "indoor"):
        out["indoor"] = True
    elif c.has("venue", "outdoor"):
        out["indoor"] = False
    if value in ("crit", "zwift_race"):
        out["workout_type"] = "race"
        if value == "zwift_race":
            out["indoor"] = True
    elif easy:
        out["workout_type"] = "endurance"
    else:
        out["workout_type"] = "group_ride"
    return [out]


def read_venue(c: Clause):
    venues = c.of("venue")
    if not venues:
        return None
    wheres = {t.value for t in venues}
    days, except_days, phases, window = _scope(c)
    types = [t for t in c.types() if t != "any"]
    c.use(venues, "rides", "train")
    only = c.first("only")
    neg = c.of("neg")
    if len(wheres) == 2:
        return None
    where = wheres.pop()
    if neg:
        c.use(neg)
        where = "indoor" if where == "outdoor" else "outdoor"
    if c.has("remainder") and c.carry.kind == "venue" and c.carry.days:
        c.use("remainder")
        return [{"kind": "venue", "where": where, "days": complement(c.carry.days)}]
    if only is not None and days:
        c.use(only)
        first_day = next(t for t in c.tokens if t.cls == "day")
        venue_first = c.before(venues[0], first_day)
        on_between = any(t.text.lower() in ("on", "at") for t in c.raw_between(only, first_day))
        if venue_first and c.before(venues[0], only) and c.before(only, first_day):
            if where == "outdoor":
                c.carry.days, c.carry.kind = days, "venue"
                return [{"kind": "venue", "where": "indoor", "days": complement(days)}]
            if on_between:
                raise Refusal("ambiguous", "Two readings: “Thursdays indoors only” or “the turbo only on Thursdays "
                                           "(other days outdoors)”. Write the one you mean.")
        if c.before(only, venues[0]) and where == "outdoor":
            c.carry.days, c.carry.kind = days, "venue"
            return [{"kind": "venue", "where": "indoor", "days": complement(days)}]
    elif only is not None:
        c.use(only)
    if not (days or except_days or types or phases or window):
        raise Refusal("too_vague", "On which days? e.g. “indoor only on Tuesdays”.")
    c.carry.days = days
    c.carry.kind = "venue"
    return [constraint_for_days("venue", days, except_days, phases, window, where=where,
                                **({"types": types} if types else {}))]


def _count_value(c: Clause):
    counts = c.of("count") + [t for t in c.of("qty") if t.unit == "count"] + c.of("num")
    ranges = c.of("range")
    return counts, ranges


def read_counts(c: Clause):
    """training_days and type_count: "no more than 5 training days a week", "max 2 hard sessions a week",
    "2 rest days per week", "sweet spot no more than twice weekly"."""
    if any(t.unit in ("min", "km", "mi", "tss", "pct", "weeks") for t in c.of("qty")) or c.has("metric"):
        return None
    if any(t.cls == "range" and t.unit for t in c.tokens):
        return None
    counts, ranges = _count_value(c)
    day_counts = [t for t in c.of("qty") if t.unit == "days"]
    if c.has("last") or c.has("event"):
        day_counts = []
    rest = c.of("rest") + [t for t in c.of("off") if "day" in t.text.lower()]
    if not (counts or ranges or day_counts):
        return None
    days, except_days, phases, window = _scope(c)
    types = c.types()
    nouns_days = c.of("days") + day_counts
    week = [t for t in c.of("period") if t.value == "week"]
    period_ok = bool(week) or bool(days) or c.carry.period == "week" or c.carry.right_period == "week"
    if not (types or nouns_days or c.has("rides") or rest):
        return None
    if not period_ok:
        raise Refusal("too_vague", "Per week? e.g. “no more than 2 hard sessions a week”.")
    if window:
        raise Refusal("not_representable", "Counts are per week; for the days before the event write e.g. “no hard "
                                           "sessions in the 3 days before my race”.")
    c.use(week, "train", "keep")
    modal = c.modality()
    only = c.first("only")
    if only is not None and modal is None:
        c.use(only)
        modal = "max"
    if modal is None and c.carry.modality and c.carry.kind in ("type_count", "training_days"):
        modal = c.carry.modality
        c.carried = True
    neg = c.of("neg")
    value_tok = (counts or day_counts or ranges)[0]
    c.use(value_tok)
    if value_tok.cls == "range":
        lo, hi = value_tok.value
        modal = "range"
    else:
        lo = hi = int(value_tok.value)
    if modal is None and nouns_days and not types and any(t.text.lower() in ("can", "could") for t in c.tokens):
        modal = "max"  # "I can train 5 days a week": what the week has room for
    if modal is None:
        if rest:
            modal = "rest_default"
        else:
            raise Refusal("ambiguous", "Is that a limit or what you usually do? Write e.g. “at most 4 days a week” "
                                       "or “at least 4 days a week”.")
    if neg and modal == "max" and any(x not in c.used for x in map(c.idx, neg)):
        c.use(neg)  # "I don't do more than two", "a week without more than 2 hard days"
    if rest:
        c.use(rest, nouns_days, "days")
        if days:
            if len(days) != lo:
                raise Refusal("contradictory", "The number of rest days and the days named differ.")
            return [{"kind": "rest_days", "days": days}]
        if types:
            return None
        n = 7 - int(lo)
        if modal in ("rest_default", "min"):
            return [{"kind": "training_days", "max": n}]
        if modal == "max":
            return [{"kind": "training_days", "min": n}]
        if modal == "exact":
            return [{"kind": "training_days", "min": n, "max": n}]
        return None
    c.carry.modality = modal if modal in ("max", "min") else None
    c.carry.period = "week"
    limits = {"max": {"max": hi}, "min": {"min": lo}, "exact": {"min": lo, "max": hi},
              "range": {"min": lo, "max": hi}}[modal]
    if types:
        c.use(nouns_days, "rides")
        if "rest" in types:
            return None
        if modal == "max" and hi == 0:
            return [constraint_for_days("banned_types", days, except_days, phases, None, types=types)]
        c.carry.kind = "type_count"
        c.carry.types = types
        return [constraint_for_days("type_count", days, except_days, phases, None, types=types, **limits)]
    if nouns_days:
        c.use(nouns_days)
        c.carry.kind = "training_days"
        if any(t.value == "weekdays" for t in nouns_days) and not days:
            days = list(WEEKDAY_LIST)
        return [constraint_for_days("training_days", days, except_days, phases, None, **limits)]
    c.use("rides")
    c.carry.kind = "type_count"
    return [constraint_for_days("type_count", days, except_days, phases, None, types=["any"], **limits)]


def read_amounts(c: Clause):
    """session_length and weekly_volume: durations, distances and TSS with a modality; weekly with a week word."""
    qtys = [t for t in c.of("qty") if t.unit in ("min", "km", "mi", "tss")]
    ranges = [t for t in c.of("range") if t.unit in ("min", "km", "mi", "tss", None)]
    metric = c.first("metric")
    nums = c.of("num")
    if not qtys and not ranges and not (nums and (metric or c.carry.unit)):
        if nums and (c.has("period") or c.has("max") or c.has("min")) and not (
                c.has("type") or c.has("rides") or c.has("days") or c.has("rest") or c.has("off")):
            raise Refusal("ambiguous", "Hours, kilometres, TSS or sessions? Write the unit, e.g. “max 9 hours a "
                                       "week” or “max 4 rides a week”.")
        return None
    if c.has("fixed") or c.has("seq"):
        return None
    days, except_days, phases, window = _scope(c)
    types = [t for t in c.types() if t != "any"]
    week = [t for t in c.of("period") if t.value == "week"]
    per_ride = [t for t in c.of("period") if t.value in ("ride", "day")]
    weekly = bool(week) or (metric is not None and metric.value in ("hours", "tss", "distance")
                            and "weekly" in metric.text.lower() or metric is not None and metric.value == "hours")
    if metric is not None and metric.value == "tss" and not per_ride:
        weekly = True
    if not weekly and not per_ride and c.carry.right_period == "week" and not (days or types):
        weekly = True
        c.carried = True
    if not weekly and not per_ride and c.carry.week_seen and not (days or types or except_days or phases or window):
        weekly = True  # "I can train 5 days a week, max 8 hours": the week word of the sentence
        c.carried = True
    if not weekly and not per_ride and c.carry.kind == "weekly_volume" and not (days or types or except_days) \
            and not qtys and nums:
        weekly = True
        c.carried = True
    anchored = bool(week or per_ride or metric or days or except_days or types or phases or window
                    or c.has("rides") or c.has("keep") or c.has("max") or c.has("min") or c.has("gt")
                    or c.has("lt") or c.has("only") or c.carry.kind in ("weekly_volume", "session_length",
                                                                        "long_ride_days"))
    if not anchored:
        raise Refusal("too_vague", "A limit of what? e.g. “max 3 hours per ride” or “8–10 hours a week”.")
    modal = c.modality()
    c.use(week, per_ride, "rides", "train", "keep", "amount")
    if modal is None and c.has("only"):
        c.use("only")
        modal = "max"
    if modal is None and c.has("keep"):
        modal = "max"
    if ranges:
        lo, hi = ranges[0].value
        unit = ranges[0].unit
        c.use(ranges[0])
        modal = "range"
    else:
        values = qtys or nums
        if len(values) == 2 and modal == "max" and c.has("approx"):
            values = [max(values, key=lambda t: t.value)]
            c.use(qtys, nums)
        if len(values) != 1:
            raise Refusal("too_vague", "One limit per clause, e.g. “max 2 hours on weekdays”.")
        tok = values[0]
        c.use(tok)
        unit = tok.unit if tok.cls == "qty" else None
        lo = hi = tok.value
        if tok.cls == "qty" and tok.unit == "min" and tok.number:
            c.carry.unit_factor = tok.value / tok.number
    if c.has("approx"):
        if modal is None:
            raise Refusal("ambiguous", "“About” is not a limit: write “at most 8 hours a week” or “at least 8 hours "
                                       "a week”.")
        c.use("approx")
    if modal is None and c.carry.modality and c.carry.kind in ("weekly_volume", "session_length"):
        modal = c.carry.modality
        c.carried = True
    if modal is None:
        raise Refusal("ambiguous", "Is that a limit? Write e.g. “max 5 hours on Saturday” or “at least 8 hours a "
                                   "week”.")
    if unit is None:
        if metric is not None and metric.value == "hours" and not c.has("rides"):
            unit, lo, hi = "min", lo * 60, hi * 60
            c.carry.unit_factor = 60.0
        elif metric is not None and metric.value == "tss":
            unit = "tss"
        elif c.carry.unit and c.carry.kind in ("weekly_volume", "session_length"):
            unit = c.carry.unit
            lo, hi = lo * c.carry.unit_factor, hi * c.carry.unit_factor
            c.carried = True
        else:
            raise Refusal("ambiguous", "Hours, kilometres or TSS? Write the unit, e.g. “max 9 hours a week”.")
    if unit == "min" and ranges and metric is not None and metric.value == "hours" and hi <= 40:
        lo, hi = lo * 60, hi * 60
    if metric is not None and metric.value == "hours" and unit in ("km", "mi", "tss"):
        raise Refusal("contradictory", "Hours or distance? Write one unit.")
    c.use("metric")
    limits = {"max": {"max": hi}, "min": {"min": lo}, "range": {"min": lo, "max": hi},
              "exact": {"min": lo, "max": hi}}[modal]
    c.carry.modality = modal if modal in ("max", "min") else c.carry.modality
    c.carry.unit = unit
    if weekly:
        if days or except_days or window or types:
            raise Refusal("not_representable", "Weekly totals cannot be limited to some days; write e.g. “max 2 "
                                               "hours on weekdays” for each ride.")
        c.carry.kind = "weekly_volume"
        c.carry.period = "week"
        wunit = {"min": "h", "km": "km", "mi": "mi", "tss": "tss"}[unit]
        scale = (lambda v: round(v / 60, 2)) if unit == "min" else (lambda v: v)
        out = {"kind": "weekly_volume", "unit": wunit, **{k: scale(v) for k, v in limits.items()}}
        if phases:
            out["phases"] = phases
        return [out]
    if unit == "tss":
        raise Refusal("not_representable", "TSS limits are weekly: write e.g. “max 500 TSS a week”.")
    if not types and c.carry.kind == "long_ride_days" and not (days or except_days):
        types = ["long"]
        c.carried = True
    c.carry.kind = "session_length"
    long_days = []
    if types == ["long"] and days and not except_days and not c.has("only") and not c.carried:
        long_days, days = days, []
    out = constraint_for_days("session_length", days, except_days, phases, window, unit=unit,
                              **({"types": types} if types else {}), **{k: v for k, v in limits.items()})
    if long_days:
        c.carry.kind = "long_ride_days"
        return [{"kind": "long_ride_days", "days": long_days}, out]
    return [out]


def read_long_ride(c: Clause):
    long = [t for t in c.of("type") if t.value == ("long",)]
    if not long or c.has("neg") or len(c.of("type")) > 1:
        return None
    only = c.first("only")
    first_day = c.first("day")
    if only is not None and first_day is not None and c.before(only, long[0]):
        return None  # "only long rides on Saturday" restricts the day
    days, except_days = c.days()
    if except_days:
        days = [d for d in (days or DAYS) if d not in except_days]
    if not days:
        raise Refusal("too_vague", "On which day? e.g. “long ride on Saturday”.")
    c.use(long, "only", "label_eq", "rides")
    c.carry.kind = "long_ride_days"
    c.carry.types = ["long"]
    return [{"kind": "long_ride_days", "days": days}]


def read_types(c: Clause):
    """Bans ("no VO2 in base"), allowances ("Mondays easy", "only Z2 on Tuesdays") and restrictions ("intervals
    only on Tue and Thu" = banned except those days)."""
    types = [t for t in c.of("type")] + [t for t in c.of("fixed") if t.value == "group"]
    neg = c.of("neg")
    if not types and neg and c.carry.types and c.has("day") and not c.has("train") and not c.has("rides") \
            and c.carry.kind in ("type_count", "banned_types", "allowed_types"):
        days, except_days, phases, window = _scope(c)  # "No more than 1 VO2 session a week, never on a Monday"
        c.use(neg)
        c.carried = True
        return [constraint_for_days("banned_types", days, except_days, phases, window, types=list(c.carry.types))]
    if not types:
        return None
    only = c.first("only")
    days, except_days, phases, window = _scope(c)
    names = c.types()
    c.use("rides", "train")
    easy = set(names) <= EASY_TYPES
    c.carry.types = names
    if neg:
        c.use(neg, "keep")
        if "any" in names:
            return None
        c.carry.kind = "banned_types"
        return [constraint_for_days("banned_types", days, except_days, phases, window, types=names)]
    scoped = days or except_days or phases or window
    if only is not None:
        c.use(only, "keep")
        first_type = types[0]
        scope_tok = next((t for t in c.tokens if t.cls in ("day", "phase", "event", "last")), None)
        if scope_tok is not None and c.before(first_type, only) and c.before(only, scope_tok) and not easy:
            if not days or phases or window:
                raise Refusal("not_representable", "Restricting a workout type to some phases: write e.g. “no VO2 "
                                                   "in base or build”.")
            return [{"kind": "banned_types", "types": names, "except_days": days}]
        return [constraint_for_days("allowed_types", days, except_days, phases, window, types=names)]
    if easy and (scoped or c.has("keep")):
        if not scoped:
            raise Refusal("too_vague", "Which days should be easy? e.g. “keep Tuesdays easy”.")
        c.use("keep")
        return [constraint_for_days("allowed_types", days, except_days, phases, window, types=names)]
    eq = c.of("label_eq")
    if days and not easy and (eq or any(t.text.lower() in ("for",) for t in c.tokens)) and not phases:
        first_day = c.first("day")
        if c.before(types[0], first_day):
            c.use(eq)
            return [{"kind": "banned_types", "types": names, "except_days": days}]
    raise Refusal("ambiguous", "Is that a ban, a limit or a placement? Write e.g. “no VO2 on Mondays”, “VO2 only on "
                               "Tuesdays” or “max 1 VO2 session a week”.")


def read_rest(c: Clause):
    rest = c.of("rest", "off")
    unavail = c.of("unavail")
    neg = c.of("neg")
    train = c.of("train", "rides")
    only = c.first("only")
    if not (rest or unavail or (neg and train) or (only and (train or c.carry.kind == "rest_days"))
            or c.has("remainder") or (train and c.has("day"))):
        return None
    if rest and neg and not train and not any(t.value == "off" for t in rest):
        if c.has("day"):
            raise Refusal("not_representable", "A rule cannot force training on a day; to keep a day free of rest, "
                                               "write e.g. “at most one rest day a week”.")
        raise Refusal("unsafe", "Rest cannot be removed: the plan keeps at least one rest day a week.")
    days, except_days = c.days()
    window = c.window()
    then = next((t for t in c.tokens if t.cls == "seq" and t.value == "then"), None)
    if not days and then is not None and c.carry.days:
        days = list(c.carry.days)
        c.use(then)
        c.carried = True
    days, except_days, _, window = c.label_scope(days, except_days, [], window)
    reason = "unavailable" if any(t.value == "cant" for t in neg) or unavail or \
        any(t.text.lower() in ("out", "off limits", "off-limits", "out of bounds") for t in rest) else "rest"
    if c.carried and c.carry.reason == "unavailable":
        reason = "unavailable"
    c.use(rest, unavail, neg, train, "keep", "possible", "label_eq")
    if only is not None:
        c.use(only)
        if not days:
            raise Refusal("too_vague", _ASK_DAYS)
        c.carry.kind = "rest_days"
        return [{"kind": "rest_days", "days": complement([d for d in days if d not in except_days]),
                 "reason": "unavailable"}]
    if not (rest or unavail or neg) and len(days) == 7 and not except_days:
        return [{"kind": "training_days", "min": 7}]  # "train every day"
    if not (rest or unavail or neg):
        raise Refusal("ambiguous", "Is that every day you can ride? Write the days you cannot, e.g. “I can't ride "
                                   "on Fridays”, or “I can only ride on …”.")
    if not days and not except_days and not window:
        raise Refusal("too_vague", _ASK_DAYS)
    c.carry.kind = "rest_days"
    c.carry.days = days
    c.carry.reason = reason
    out = constraint_for_days("rest_days", days, except_days, [], window, reason=reason)
    return [out]


FAMILIES = (read_refusals, read_dates, read_taper, read_cadence, read_ramp, read_sequence, read_fixed, read_venue,
            read_counts, read_amounts, read_long_ride, read_types, read_rest)
