"""The clause grammar: one reader per rule family turns the tokens of one clause into version-2 constraints.

A clause is read by the first family whose *head* words it holds (dates, taper, cadence, ramp, sequence, fixed
session, venue, counts, lengths and volumes, long-ride day, type bans/allowances, rest days). A family reads its
slots (scope: days, "except" days, phases, the N days before the event; limits: modality × number × unit ×
period) and marks the tokens it used. The clause is applied only when **every** token is used or is a filler
word: an unknown word, a second scope or a cue of another family makes the clause unparsed (precision first).
Families refuse explicitly (``Refusal``) when a reading is ambiguous or not representable, with a rewording.

Conventions (docs/COACHING.md "Rule language"): a duration without a week word is per session; "X only on D"
restricts X to D (easy types: the days to X; the long ride: its days); "no/never/not … more than" is a maximum;
a count of rest days N is a training-day maximum of 7 − N ("only/no more than N rest days" a minimum).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from core.coach.rules.model import DAYS, WEEKDAYS
from core.coach.rules.tokens import Token

EASY_TYPES = {"easy", "recovery", "endurance"}


class Refusal(Exception):
    """A clause the parser will not apply: ``reason`` (an UnparsedReason) and a concrete rewording."""

    def __init__(self, reason: str, suggestion: str):
        super().__init__(suggestion)
        self.reason = reason
        self.suggestion = suggestion


@dataclass
class Carry:
    """What a clause leaves for the next one in the same sentence (ellipsis): "…, max 5h" after a long ride."""

    kind: str | None = None
    types: list[str] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    unit: str | None = None        # min | km | mi | tss
    unit_factor: float = 1.0       # a bare number after "8 hours a week but no more than 11" is in hours
    period: str | None = None      # week for weekly volume/count
    modality: str | None = None
    limit: int | None = None       # a max_consecutive limit, for "…, then rest"
    reason: str | None = None      # rest | unavailable
    scope_days: list[str] = field(default_factory=list)   # a label "Tuesdays:" over the clauses after it
    scope_phases: list[str] = field(default_factory=list)
    scope_window: int | None = None
    week_seen: bool = False        # an earlier clause of the sentence said "a week" ("5 days a week, max 8 hours")
    right_period: str | None = None  # "max 5 hours and at least 8 hours a week": the week word applies to both
    today: date = date(2025, 3, 3)

    def clone(self) -> Carry:
        """A copy a trial reading may change without touching this one (lists copied, values immutable)."""
        return replace(self, types=list(self.types), days=list(self.days), scope_days=list(self.scope_days),
                       scope_phases=list(self.scope_phases))


class Clause:
    """The tokens of one clause with slot readers that mark what they use."""

    def __init__(self, tokens: list[Token], carry: Carry):
        self.all_tokens = [t for t in tokens if t.cls != "filler"]
        self.tokens = [t for t in tokens if t.cls not in ("comma", "sep", "stop")]
        self.carry = carry
        self.used: set[int] = set()
        self.carried = False

    # -- queries ---------------------------------------------------------------------------------------------
    def of(self, *classes: str) -> list[Token]:
        return [t for t in self.tokens if t.cls in classes]

    def has(self, cls: str, *values) -> bool:
        return any(t.cls == cls and (not values or t.value in values) for t in self.tokens)

    def idx(self, t: Token) -> int:
        return next(i for i, x in enumerate(self.tokens) if x is t)

    def use(self, *items) -> None:
        for item in items:
            if isinstance(item, Token):
                self.used.add(self.idx(item))
            elif isinstance(item, str):
                self.used.update(i for i, t in enumerate(self.tokens) if t.cls == item)
            else:
                for t in item:
                    self.used.add(self.idx(t))

    def leftover(self) -> list[Token]:
        return [t for i, t in enumerate(self.tokens) if i not in self.used and t.cls not in ("filler", "label_eq")]

    def words(self, t: Token) -> str:
        return t.text.lower()

    def neighbour(self, t: Token, step: int) -> Token | None:
        """The next (step 1) or previous (-1) meaningful token in the same fragment."""
        i = next(k for k, x in enumerate(self.all_tokens) if x is t) + step
        if 0 <= i < len(self.all_tokens) and self.all_tokens[i].cls not in ("comma", "sep", "stop"):
            return self.all_tokens[i]
        return None

    def first(self, cls: str) -> Token | None:
        return next((t for t in self.tokens if t.cls == cls), None)

    def before(self, a: Token, b: Token) -> bool:
        return self.idx(a) < self.idx(b)

    def raw_between(self, a: Token, b: Token) -> list[Token]:
        i, j = self.idx(a), self.idx(b)
        return self.tokens[min(i, j) + 1:max(i, j)]

    # -- slots -----------------------------------------------------------------------------------------------
    def days(self) -> tuple[list[str], list[str]]:
        """(days, except_days): day tokens, ranges "Mon–Fri"/"Monday to Thursday", and those after "except"."""
        days: list[str] = []
        excepted: list[str] = []
        exc = self.first("except")
        runs = 0
        prev_day_i = None
        for i, t in enumerate(self.tokens):
            if t.cls != "day":
                continue
            target = excepted if exc is not None and self.idx(exc) < i else days
            between = self.tokens[prev_day_i + 1:i] if prev_day_i is not None else None
            if between is not None and len(between) == 1 and between[0].text.lower() in ("-", "–", "—", "to", "through",
                                                                                         "thru", "till", "until"):
                a = DAYS.index(self.tokens[prev_day_i].value[0])
                b = DAYS.index(t.value[0])
                if a < b:
                    target.extend(DAYS[a:b + 1])
                    self.used.add(i)
                    self.used.add(i - 1) if self.tokens[i - 1].cls == "filler" else None
                    prev_day_i = i
                    continue
            if between is not None and any(x.cls not in ("filler",) for x in between) and target is days:
                runs += 1
            target.extend(t.value)
            self.used.add(i)
            prev_day_i = i
        if runs:
            raise Refusal("ambiguous", "Two sets of days in one clause: write one rule per set of days, e.g. "
                                       "“no intervals on Tuesdays. Long ride on Saturday.”")
        if exc is not None:
            self.use(exc)
            if not excepted:
                raise Refusal("not_representable", "Only days can be exceptions, e.g. “no rides longer than 3 "
                                                   "hours except on Saturday”.")
        return [d for d in DAYS if d in days], [d for d in DAYS if d in excepted]

    def types(self, *, trigger_ok=True) -> list[str]:
        out: list[str] = []
        for t in self.of("type"):
            out.extend(t.value)
            self.use(t)
        for t in self.of("fixed"):
            if t.value == "group":
                out.append("group_ride")
                self.use(t)
        return list(dict.fromkeys(out))

    def phases(self, *, taper_is_phase=True) -> list[str]:
        out: list[str] = []
        for t in self.of("phase"):
            out.extend(t.value)
            self.use(t)
        if taper_is_phase:
            for t in self.of("taper"):
                out.append("taper")
                self.use(t)
        return list(dict.fromkeys(out))

    def window(self) -> int | None:
        """N days before the event: "the day before my race", "in the 10 days before the event", "final 3 days",
        "the last week before the race"."""
        eventday = self.first("eventday") or self.first("eventweek")
        if eventday is not None:
            self.use(eventday)
            return int(eventday.value)
        event = self.first("event")
        last = self.first("last")
        before = next((t for t in self.tokens if t.cls == "seq" and t.value == "before"), None)
        if event is None and last is None and before is None:
            return None
        qty = next((t for t in self.of("qty") if t.unit in ("days", "weeks")), None)
        week = next((t for t in self.of("period") if t.value == "week" and self.words(t) in ("week", "wk")), None)
        if before is not None and "day" in self.words(before) and (event or qty is None):
            self.use(before, *( [event] if event else []))
            return 1
        if qty is not None and (event or last):
            self.use(qty, *[t for t in (event, last, before) if t is not None])
            return int(qty.value * (7 if qty.unit == "weeks" else 1))
        if week is not None and last is not None and event is not None:
            self.use(week, last, event)
            return 7
        if event is not None:
            raise Refusal("too_vague", "How many days before the event? e.g. “no hard sessions in the 3 days "
                                       "before my race”.")
        return None

    def label_scope(self, days, except_days, phases, window):
        """Days/phases/window from a label ("Tuesdays: …") when the clause has none of its own."""
        c = self.carry
        if not (days or except_days) and c.scope_days:
            days = list(c.scope_days)
            self.carried = True
        if not phases and c.scope_phases:
            phases = list(c.scope_phases)
        if window is None and c.scope_window:
            window = c.scope_window
        return days, except_days, phases, window

    def modality(self) -> str | None:
        """max | min | exact | None, from max/min words or a negated comparative ("no rides longer than")."""
        neg = self.of("neg")
        if self.has("max"):
            self.use("max")
            return "max"
        if self.has("min"):
            self.use("min")
            return "min"
        if self.has("exactly"):
            self.use("exactly")
            return "exact"
        if self.has("gt"):
            if neg:
                self.use("gt", neg[0])
                return "max"
            raise Refusal("not_a_constraint", "“More than” without a limit reads as a permission; write a limit, "
                                              "e.g. “at least 10 hours a week” or “no more than 10 hours a week”.")
        if self.has("lt"):
            if neg:
                self.use("lt", neg[0])
                return "min"
            self.use("lt")
            return "max"
        return None


def constraint_for_days(kind: str, days: list[str], except_days: list[str], phases: list[str],
                        window: int | None, **fields) -> dict:
    out = {"kind": kind, **fields}
    if days:
        out["days"] = days
    if except_days:
        out["except_days"] = except_days
    if phases:
        out["phases"] = phases
    if window:
        out["before_event_days"] = window
    return out


def complement(days: list[str]) -> list[str]:
    return [d for d in DAYS if d not in days]


WEEKDAY_LIST = list(WEEKDAYS)
