"""The rule families of the clause grammar (see ``core.coach.rules.frames``): each ``read_*`` returns the
constraints of one clause (JSON dicts), ``None`` when the clause is not of its family, or raises ``Refusal``.
``FAMILIES`` lists them in the order they are tried (the most specific head words first)."""

from __future__ import annotations

from core.coach.rules.frames import (
    EASY_TYPES,
    WEEKDAY_LIST,
    Clause,
    Refusal,
    complement,
    constraint_for_days,
)
from core.coach.rules.model import DAYS
from core.coach.rules.periods import read_cadence, read_dates, read_ramp, read_sequence, read_taper

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
    if any(t.cls == "range" and t.unit and t.unit != "days" for t in c.tokens):
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
    nouns_days = c.of("days") + day_counts + [t for t in ranges if t.unit == "days"]
    week = [t for t in c.of("period") if t.value == "week"]
    period_ok = bool(week) or bool(days) or c.carry.period == "week" or c.carry.right_period == "week" or any(
        t.value == "weekdays" for t in c.of("days"))
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
    if modal is None and c.carry.modality and c.carry.kind in ("type_count", "training_days", "weekly_volume"):
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
        if qtys and nums and modal == "max" and c.has("approx") and len(qtys) == 1:
            c.use(nums)  # "about six or seven hours a week, no more": the larger bound
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
    if not types and (neg or c.has("only")) and c.has("recovery_word") and not c.has("seq"):
        for t in c.of("recovery_word"):  # "Mon: recovery only"
            t.cls, t.value = "type", ("recovery",)
        types = c.of("type")
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
    c.use([t for t in c.of("seq") if t.value == "after_ref"])
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
    if days and not neg and not only and any(t.cls == "filler" and t.text.lower() == "or" for t in c.tokens):
        raise Refusal("ambiguous", "Both days or one of them? Write e.g. “rest on Mondays and Tuesdays” or “at least "
                                   "one rest day a week”.")
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
