"""Rule families about time (see ``core.coach.rules.frames``): date ranges, taper, recovery cadence, load ramps,
runs of days ("back to back", "in a row") and the day after a workout. Each ``read_*`` returns the constraints of
one clause, ``None`` when the clause is not of its family, or raises ``Refusal``."""

from __future__ import annotations

from datetime import date

from core.coach.rules.frames import EASY_TYPES, Clause, Refusal


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
    if c.carry.kind in ("weekly_volume", "session_length", "type_count") and c.has("num"):
        return None  # "max 10 hours per week in base, 8 in taper"
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
    every_nth = _every(c) and c.has("ordinal") and c.has("period")
    if every_nth:
        cues.append(c.first("ordinal"))  # "every third week easy"
    roles = {_role(c.neighbour(t, 1)) or _role(c.neighbour(t, -1)) for t in c.tokens
             if t.cls == "num" or t.cls == "qty" and t.unit == "weeks"}
    paired = {"load", "rec"} <= roles and (  # "2 weeks hard, 1 week easy", "Build 3 weeks, recover 1"
        any(t.unit == "weeks" for t in c.of("qty")) or c.has("cadence") or bool(recovery_phase))
    if paired:
        cues.append(c.tokens[0])
    if not cues:
        return None
    if not (paired or every_nth or c.has("cadence") or recovery_phase and not c.has("neg")) and c.has("type"):
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
        c.use([t for t in (ordinal,) if t], weeks_qty, recovery_phase, "period", "rest", "type", "off", "cadence",
              "recovery_word")
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
    if kinds == {"after_ref"} and c.has("day"):
        return None  # "Monday after it is always off": a rest day named by its weekday
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
    if kinds & {"after", "next", "after_ref"}:
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
    markers = [i for i, t in enumerate(tokens) if t.cls == "seq" and t.value in ("after", "next", "after_ref")]
    for i in markers:
        if tokens[i].value == "after_ref" and c.carry.types:  # "an easy day after each one"
            trigger_ref = list(c.carry.types)
            c.carried = True
            break
    else:
        trigger_ref = []
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
    trigger = trigger or trigger_ref
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
