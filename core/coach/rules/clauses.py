"""Sentence → clauses → constraints: the deterministic reader's driver.

1. ``tokens.tokenize`` (normalised words, typos, numbers, durations, ranges, dates, lexicon phrases).
2. Sentences end at . ; ! ? or a new line. Inside a sentence, *fragments* are cut at commas and at "and / but /
   plus / also / so"; a label ("Tuesdays:", "recovery weeks:", "the last 3 days before my race:") lends its scope
   to the fragments after it that name none.
3. Clauses are found left to right, longest first: the longest run of fragments that reads completely as one
   clause (``frames``/``families``) wins, so "rest Monday, Wednesday and Friday" is one clause and "rest Mondays,
   long ride on Saturday" two. A fragment nothing reads is unparsed (adjacent ones are reported as one span);
   fragments of only fillers ("thanks", "please") and reasons before "so" are ignored.
4. Ellipsis: a clause passes its subject, unit, period and modality to the next one in the sentence (``Carry``):
   "long ride Sunday, max 5h", "max 12h a week in build, 8 in base", "2 hard sessions a week max, never back to
   back", and a week word after "and" applies to the clause before it ("max 5 hours and at least 8 hours a week").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from core.coach.rules.families import FAMILIES
from core.coach.rules.frames import Carry, Clause, Refusal
from core.coach.rules.model import GROUPS, parse_constraint
from core.coach.rules.tokens import Token, tokenize
from core.errors import RuleParseError

MAX_FRAGMENTS = 80  # a rule text with more parts than this is refused (it is a list of many rules or noise)
MAX_MERGE = 8  # fragments one clause may span ("rest Monday, Tuesday, …"); bounds the work on hostile text
_SCOPE_CLASSES = {"day", "phase", "event", "last", "filler", "rides"}
_ROLE = {"day": "day", "phase": "phase", "taper": "phase", "neg": "negation", "max": "modality", "min": "modality",
         "gt": "modality", "lt": "modality", "exactly": "modality", "between": "modality", "only": "modality",
         "qty": "number", "num": "number", "range": "number", "count": "number", "ordinal": "number",
         "ratio": "number", "period": "unit", "metric": "unit", "except": "except", "event": "event",
         "last": "event", "date": "date", "month": "date"}
_SUGGEST = ("Try one rule per clause, e.g. “rest on Fridays”, “max 9 hours a week”, “no intervals on Mondays”, “no "
            "more than 2 hard sessions a week”.")


@dataclass
class ClauseOutcome:
    tokens: list[Token]
    constraints: list = field(default_factory=list)   # validated models
    reason: str | None = None
    suggestion: str | None = None
    ignored: bool = False
    confidence: float = 1.0
    words: list[Token] = field(default_factory=list)
    carry: Carry | None = None
    sep_after: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.constraints)

    @property
    def start(self) -> int:
        return self.tokens[0].start

    @property
    def end(self) -> int:
        return self.tokens[-1].end


def _meaningful(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t.cls not in ("filler", "comma", "sep", "stop", "label_eq")]


def _pydantic_reason(exc: ValidationError) -> tuple[str, str]:
    message = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
    contradictory = any(w in message for w in ("above the maximum", "every day", "remove every day", "no training"))
    return ("contradictory" if contradictory else "out_of_range"), message


def read_clause(tokens: list[Token], carry: Carry) -> ClauseOutcome:
    """Read one clause; the outcome holds its constraints (validated) or why not, and the carry for the next."""
    meaningful = _meaningful(tokens)
    if not meaningful:
        return ClauseOutcome(tokens, ignored=True)
    last_refusal: Refusal | None = None
    for family in FAMILIES:
        trial = carry.clone()
        clause = Clause(tokens, trial)
        try:
            result = family(clause)
        except Refusal as refusal:
            last_refusal = refusal
            break
        if result is None:
            continue
        left = clause.leftover()
        if left:
            words = ", ".join(f"“{t.text}”" for t in left)
            return ClauseOutcome(tokens, reason="unknown_words",
                                 suggestion=f"“{_text(tokens)}” was not understood ({words}). {_SUGGEST}"[:500])
        try:
            models = [parse_constraint(c) for c in result]
        except ValidationError as exc:
            reason, message = _pydantic_reason(exc)
            return ClauseOutcome(tokens, reason=reason, suggestion=f"{message[0].upper()}{message[1:]}."[:500])
        confidence = 1.0 - 0.05 * sum(t.typo for t in clause.tokens)
        if clause.carried:
            confidence = min(confidence, 0.85)
        used = [clause.tokens[i] for i in sorted(clause.used)]
        return ClauseOutcome(tokens, models, confidence=round(max(confidence, 0.7), 2), words=used, carry=trial)
    if last_refusal is not None:
        return ClauseOutcome(tokens, reason=last_refusal.reason, suggestion=last_refusal.suggestion[:500])
    unknown = [t for t in meaningful if t.cls == "word"]
    said = _text(tokens)
    if unknown:
        return ClauseOutcome(tokens, reason="unknown_words",
                             suggestion=f"“{said}” was not understood: it does not read as a training rule. "
                                        f"{_SUGGEST}"[:500])
    return ClauseOutcome(tokens, reason="too_vague", suggestion=f"“{said}” was not understood: too vague to plan with. {_SUGGEST}"[:500])


def _text(tokens: list[Token]) -> str:
    """The words of a clause as the rider wrote them (from its first to its last token)."""
    return " ".join(t.text for t in tokens if t.cls not in ("comma", "sep", "stop"))[:200]


def _sentences(tokens: list[Token]) -> list[list[Token]]:
    out: list[list[Token]] = [[]]
    for t in tokens:
        if t.cls == "stop":
            out.append([])
        else:
            out[-1].append(t)
    return [s for s in out if s]


def _fragments(sentence: list[Token]) -> list[tuple[list[Token], str | None]]:
    """(tokens, separator before) for each fragment of a sentence."""
    out: list[tuple[list[Token], str | None]] = []
    current: list[Token] = []
    sep = None
    for t in sentence:
        if t.cls == "cond" and t.text.lower() in ("depending", "depending on", "if", "when") and current:
            out.append((current, sep))  # "long ride on Saturday depending on the weather": a condition of its own
            current, sep = [t], ","
            continue
        if t.cls in ("comma", "sep"):
            if current:
                out.append((current, sep))
                sep = None
            current = []
            sep = (sep or "") + (t.value if t.cls == "sep" else ",")
            continue
        current.append(t)
    if current:
        out.append((current, sep))
    return out


def _continues(prev: list[Token], nxt: list[Token], sep: str | None) -> bool:
    """Is the fragment a list continuation ("Tuesday and Thursday", "Mon, Wed", "sweet spot, threshold or VO2")?
    A comma followed by "and" starts a new clause."""
    if not prev or not nxt:
        return False
    a = [t for t in prev if t.cls != "filler"]
    b = [t for t in nxt if t.cls != "filler"]
    if not (a and b):
        return False
    if b[0].cls == "except":
        return True  # "…, except the weekend" never stands alone
    if sep == ",":
        return a[-1].cls == "day" and all(t.cls == "day" for t in b)
    return sep in ("and", "&", "or") and a[-1].cls == b[0].cls and a[-1].cls in ("day", "phase")


_HEADS = ("type", "neg", "max", "min", "phase", "taper", "fixed", "venue", "rest", "off", "seq", "ramp", "only")


def _may_merge(fragments: list[list[Token]]) -> bool:
    """Fragments read as one clause only when no two of them carry the same kind of head word (two bans, two
    phases, two limits are two clauses) and no negation follows a limit ("max 1 VO2 a week, never on Monday")."""
    seen: set[str] = set()
    for k, tokens in enumerate(fragments):
        heads = {"phase" if t.cls == "taper" else t.cls for t in tokens if t.cls in _HEADS}
        meaningful = [t for t in tokens if t.cls != "filler"]
        prev = [t for t in fragments[k - 1] if t.cls != "filler"] if k else []
        if prev and meaningful and prev[-1].cls == meaningful[0].cls and prev[-1].cls in ("type", "phase"):
            heads.discard(prev[-1].cls)  # a list: "no sweet spot, threshold or VO2 on Mondays", "build and peak"
        if k and "seq" in seen or any(t.cls == "qty" and t.unit == "weeks" for f in fragments for t in f):
            heads.discard("type")  # "After a long ride, an easy day", "2 weeks hard, 1 week easy"
        if k and (heads & seen or "neg" in heads and seen & {"max", "min"}):
            return False
        seen |= heads
    return True


def _pure_scope(tokens: list[Token]) -> bool:
    return any(t.cls in ("day", "phase", "event") for t in tokens) and all(
        t.cls in _SCOPE_CLASSES or t.cls == "qty" and t.unit in ("days", "weeks") for t in tokens)


def _apply_labels(fragments):
    """Split "Tuesdays: no intervals" into a label and its fragment; the label's tokens are lent to following
    fragments of the sentence that have no scope of their own."""
    out = []
    label: list[Token] = []
    prev_pure = False
    for tokens, sep in fragments:
        colon = next((i for i, t in enumerate(tokens) if t.cls == "label_eq" and t.text in (":", "=")), None)
        if colon is not None and colon > 0 and _pure_scope(tokens[:colon]) and not prev_pure \
                and colon < len(tokens) - 1:
            label = tokens[:colon]
            body = tokens[colon + 1:]
            out.append((tokens[:colon + 1], sep, [], True))
            out.append((body, None, label, False))
            prev_pure = False
            continue
        prev_pure = _pure_scope(tokens) and len(_meaningful(tokens)) == len([t for t in tokens if t.cls == "day"])
        out.append((tokens, sep, label, False))
    return out


def _lend(tokens: list[Token], label: list[Token]) -> list[Token]:
    if not label:
        return tokens
    own = {t.cls for t in tokens}
    lent = [t for t in label if t.cls not in own and not (t.cls in ("event", "last") and "phase" in own)
            and t.cls != "filler"]
    if "day" in own:
        lent = [t for t in lent if t.cls != "day"]
    return lent + tokens


def _sentence_label(sentence: list[Token]) -> tuple[list[Token], list[Token]]:
    """"Mondays and Fridays: no intervals, max 1 hour": a scope before the sentence's first colon labels the
    whole sentence. Returns (label tokens, the rest), or ([], sentence)."""
    colon = next((i for i, t in enumerate(sentence) if t.cls == "label_eq" and t.text == ":"), None)
    if not colon:
        return [], sentence
    prefix = sentence[:colon]
    scope = [t for t in prefix if t.cls not in ("comma", "sep", "filler")]
    if not scope or not _pure_scope(scope) or any(t.cls == "sep" and t.value not in ("and",) for t in prefix):
        return [], sentence
    return [t for t in prefix if t.cls not in ("comma", "sep")], sentence[colon + 1:]


def read_text(text: str, carry: Carry) -> list[ClauseOutcome]:
    """The clauses of a rule text in order: read, unparsed or ignored."""
    outcomes: list[ClauseOutcome] = []
    sentences = _sentences(tokenize(text))
    if sum(len(_fragments(s)) for s in sentences) > MAX_FRAGMENTS:
        raise RuleParseError(f"This text has more than {MAX_FRAGMENTS} parts; write one rule per line and save "
                             "them separately.")
    for sentence in sentences:
        label, body = _sentence_label(sentence)
        frags = _apply_labels(_fragments(body))
        if label:  # the label itself (up to its colon) is shown as ignored; its words are lent to each clause
            colon = sentence[len(sentence) - len(body) - 1]
            outcomes.append(ClauseOutcome(label + [colon], ignored=True, reason="label"))
            frags = [(f[0], f[1], f[2] or label, f[3]) for f in frags]
        sentence_carry = carry.clone()
        sentence_carry.kind = None
        i = 0
        sentence_outcomes: list[ClauseOutcome] = []
        while i < len(frags):
            tokens, sep, label, is_label = frags[i]
            if is_label:
                outcomes.append(ClauseOutcome(tokens, ignored=True, reason="label"))
                i += 1
                continue
            best = None
            for j in range(min(len(frags), i + MAX_MERGE), i, -1):
                if any(f[3] for f in frags[i + 1:j]):
                    continue
                if j < len(frags) and _continues(frags[j - 1][0], frags[j][0], frags[j][1]) and j > i + 1 \
                        or j < len(frags) and j == i + 1 and _continues(frags[i][0], frags[j][0], frags[j][1]):
                    if j > i + 1:
                        continue
                    best = best or (j, ClauseOutcome(frags[i][0], reason="unknown_words", suggestion=_SUGGEST))
                    continue
                merged: list[Token] = []
                for k in range(i, j):
                    if k > i:  # keep the fragment boundary: roles bind within a fragment ("Build 3 weeks, recover 1")
                        edge = frags[k - 1][0][-1].end
                        merged.append(Token(edge, edge, "", "comma", ","))
                    merged.extend(_lend(frags[k][0], frags[k][2]) if k == i else frags[k][0])
                if j > i + 1 and not _may_merge([frags[k][0] for k in range(i, j)]):
                    continue
                trial_carry = sentence_carry.clone()
                nxt = frags[j] if j < len(frags) else None
                trial_carry.right_period = "week" if nxt is not None and nxt[1] in ("and", "but") and any(
                    t.cls == "period" and t.value == "week" for t in nxt[0]) else None
                outcome = read_clause(merged, trial_carry)
                if outcome.ok or outcome.ignored:
                    best = (j, outcome)
                    break
                if j == i + 1:
                    best = (j, outcome)
            j, outcome = best
            # keep the original spans (lent label words are shown as words, not as the clause)
            outcome.tokens = [t for k in range(i, j) for t in frags[k][0]]
            if outcome.ok:
                outcome.carry.week_seen = sentence_carry.week_seen
                sentence_carry = outcome.carry
                sentence_carry.right_period = None
            elif not outcome.ignored and j < len(frags) and (frags[j][1] or "").endswith("so"):
                # "Busy every Tuesday so no training then": the reason's days and unavailability carry over
                days = [d for t in outcome.tokens if t.cls == "day" for d in t.value]
                if days:
                    sentence_carry.days = days
                if any(t.cls == "unavail" for t in outcome.tokens):
                    sentence_carry.reason = "unavailable"
            outcome.sep_after = frags[j][1] if j < len(frags) else None
            if any(t.cls == "period" and t.value == "week" for k in range(i, j) for t in frags[k][0]):
                sentence_carry.week_seen = True
            sentence_outcomes.append(outcome)
            outcomes.append(outcome)
            i = j
        _reasons_before_so(sentence_outcomes)
        _exceptions_by_permission(sentence_outcomes)
    return outcomes


def _exceptions_by_permission(outcomes: list[ClauseOutcome]) -> None:
    """"no intervals on Monday but tempo is ok": a permission naming a workout type is an exception to the clause
    before it, which cannot be kept — so that clause is not applied either (never the rule without its exception)."""
    for k, outcome in enumerate(outcomes):
        if k == 0 or outcome.ok or not any(t.cls == "permit" for t in outcome.tokens):
            continue
        if not any(t.cls in ("type", "day", "phase") for t in outcome.tokens):
            continue
        prev = outcomes[k - 1]
        if prev.ok:
            prev.constraints, prev.reason = [], "not_representable"
            prev.suggestion = (f"“{_text(prev.tokens)}” has an exception (“{_text(outcome.tokens)}”) that cannot be "
                               "kept; name what is banned exactly, e.g. “no VO2 or threshold on Mondays”.")


def _reasons_before_so(outcomes: list[ClauseOutcome]) -> None:
    """"I'm a dad with two kids and a full-time job, so I can't ride Mondays": what comes before "so" is a reason
    (ignored) when it reads as nothing and the part after it reads."""
    for k, outcome in enumerate(outcomes):
        if not (outcome.sep_after or "").endswith("so") or not any(o.ok for o in outcomes[k + 1:]):
            continue
        for prev in reversed(outcomes[:k + 1]):
            if prev.ok:
                break
            if not prev.ignored:
                prev.ignored, prev.reason = True, "reason"


def word_role(t: Token) -> str:
    if t.cls == "type":
        return "group" if any(v in GROUPS for v in t.value) else "type"
    return _ROLE.get(t.cls, "kind")


def word_norm(t: Token) -> str | None:
    if t.cls == "day":
        return ",".join(t.value)
    if t.cls in ("type", "phase"):
        return ",".join(t.value)
    if t.norm:
        return t.norm
    if t.cls in ("num", "count", "ordinal"):
        return f"{float(t.value):g}"
    if t.cls == "qty":
        return f"{float(t.value):g} {t.unit}"
    return None
