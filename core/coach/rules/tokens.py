"""Sentence → tokens for the rule parser: normalisation with offsets, typo correction, numbers, durations,
distances, percentages, dates, ranges and the lexicon's phrases (longest match first).

Every token keeps the offsets of the words it came from in the rider's original text, so the preview can show
which words produced which constraint. Normalisation: lower case, curly quotes and dashes straightened, "½" →
".5", "VO₂" → "vo2", "≤/≥" kept as words. Typos are corrected only towards the vocabulary's meaningful words
(``lexicon.TYPO_TARGETS``) with difflib, and only when the best candidate is one edit away (two for words of eight
letters or more) and starts with the same letter — a common English word (``lexicon.PROTECTED``) is never changed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date

from core.coach.rules.lexicon import PHRASES, PROTECTED, TYPO_TARGETS

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "single": 1,
    "a single": 1, "a couple of": 2, "a couple": 2, "couple of": 2, "a pair of": 2,
}
ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                 "eighth": 8, "other": 2}
COUNT_WORDS = {"once": 1, "twice": 2, "thrice": 3}
MONTHS = {"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
          "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
          "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12}
TIME_UNITS = {"h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60, "hour's": 60, "min": 1, "mins": 1,
              "minute": 1, "minutes": 1, "'": 1, "m": 1}
OTHER_UNITS = {"km": "km", "kms": "km", "k": "km", "kilometres": "km", "kilometers": "km", "kilometre": "km",
               "kilometer": "km", "mi": "mi", "mile": "mi", "miles": "mi", "%": "pct", "percent": "pct",
               "pct": "pct", "per cent": "pct", "tss": "tss", "x": "count", "times": "count", "day": "days",
               "days": "days", "week": "weeks", "weeks": "weeks", "ctl": "ctl", "points": "points"}

_CHAR_MAP = {"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"', "–": "-", "—": "-", "−": "-", "‐": "-",
             "½": ".5", "¼": ".25", "¾": ".75", "₂": "2", "′": "'", "″": '"', "\u00a0": " ", "…": "."}
_RAW = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})|(?P<slash>\d{1,2}/\d{1,2}(?:/\d{2,4})?)"
    r"|(?P<hm>\d{1,2}h\d{2})|(?P<clock>\d{1,2}:\d{2})|(?P<ratio>\d:\d)(?!\d)"
    r"|(?P<abbr>max\.|min\.|approx\.|hrs\.|mins\.)|(?P<special>vo2 ?max|vo2|z[1-7](?![a-z0-9]))"
    r"|(?P<ord>\d{1,2})(?:st|nd|rd|th)\b"
    r"|(?P<num>\d+(?:[.,]\d+)?|\.\d+)(?P<unit>h|hr|hrs|hours?|mins?|minutes?|km|kms|k|mi|miles?|x|%|')?(?![a-z])"
    r"|(?P<word>[^\W\d_]+(?:'[^\W\d_]+)?)"
    r"|(?P<sym><=|>=|≤|≥|[~=:;,.!?&/()+\-\"'%<>])")
# real words that are frequent typos in one context only ("recovery weak")
TYPO_BIGRAMS = {("recovery", "weak"): "week", ("easy", "weak"): "week", ("per", "weak"): "week",
                ("a", "weak"): "week", ("rest", "weak"): "week", ("each", "weak"): "week"}
SEPARATOR_WORDS = {"and", "but", "plus", "also", "so", "while", "whereas", "though", "although"}
HARD_STOPS = {".", ";", "!", "?", "\n"}


@dataclass
class Token:
    start: int          # offsets in the original text
    end: int
    text: str           # the original words
    cls: str            # lexicon class, or num, qty, range, date, ordinal, count, sep, stop, word (unknown)
    value: object = None
    unit: str | None = None
    norm: str | None = None      # what the words were read as, when not obvious (typo, duration)
    typo: bool = False
    number: float | None = None  # a quantity's number as written (before converting hours to minutes)


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower-case copy of text with riders' characters straightened, and each character's original offset."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        rep = _CHAR_MAP.get(ch, ch.lower())
        if rep.startswith(".") and len(rep) > 1 and out and out[-1] == " " and len(out) > 1 and out[-2].isdigit():
            out.pop()
            where.pop()
        for c in rep:
            out.append(c)
            where.append(i)
    return "".join(out), where


def _damerau(a: str, b: str) -> int:
    """Optimal string alignment distance (a transposition counts as one edit)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


_KNOWN_SINGLE = {p for p in PHRASES if " " not in p}


def correct_typo(word: str) -> str | None:
    """The vocabulary word a misspelt word stands for, or None (known, protected, too short or unsure)."""
    if len(word) < 4 or word in _KNOWN_SINGLE or word in PROTECTED or word in NUMBER_WORDS or word in MONTHS:
        return None
    stem = word[:-2] if word.endswith("'s") else word
    candidates = difflib.get_close_matches(stem, TYPO_TARGETS + tuple(_PLURAL_DAYS), n=4, cutoff=0.7)
    allowed = 2 if len(stem) >= 8 else 1
    good = [c for c in candidates if c[0] == stem[0] and _damerau(stem, c) <= allowed]
    if not good:
        return None
    best = min(_damerau(stem, c) for c in good)
    winners = sorted({c for c in good if _damerau(stem, c) == best},
                     key=lambda c: -difflib.SequenceMatcher(None, stem, c).ratio())
    if len(winners) > 1:
        first, second = (difflib.SequenceMatcher(None, stem, c).ratio() for c in winners[:2])
        if first - second < 0.08:
            return None  # a tie is left alone: the clause goes unparsed rather than guessed
    return winners[0]


_PLURAL_DAYS = ("mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays")


def _raw_tokens(norm: str, where: list[int], text: str) -> list[Token]:
    out: list[Token] = []

    def tok(a: int, b: int, cls: str, value=None, unit=None, norm_=None) -> Token:
        start, end = where[a], where[b - 1] + 1
        return Token(start, end, text[start:end], cls, value, unit, norm_)

    for line_no, m in enumerate(_RAW.finditer(norm)):
        a, b = m.span()
        if "\n" in norm[out[-1].end if out else 0:a] and out:
            out.append(Token(out[-1].end, out[-1].end, "", "stop", "\n"))
        kind = m.lastgroup
        if m.group("date"):
            try:
                out.append(tok(a, b, "date", date.fromisoformat(m.group("date"))))
            except ValueError:
                out.append(tok(a, b, "word", m.group(0)))
        elif m.group("slash"):
            out.append(tok(a, b, "slashdate", m.group(0)))
        elif m.group("hm"):
            h, mins = m.group("hm").split("h")
            out.append(tok(a, b, "qty", int(h) * 60 + int(mins), "min", f"{int(h) * 60 + int(mins)} min"))
        elif m.group("clock"):
            h, mins = m.group("clock").split(":")
            out.append(tok(a, b, "qty", int(h) * 60 + int(mins), "min", f"{int(h) * 60 + int(mins)} min"))
        elif m.group("ratio"):
            left, right = m.group("ratio").split(":")
            out.append(tok(a, b, "ratio", (int(left), int(right))))
        elif m.group("ord"):
            out.append(tok(a, m.end("ord") + len(m.group(0)) - len(m.group("ord")), "ordinal", int(m.group("ord"))))
        elif m.group("num"):
            value = float(m.group("num").replace(",", "."))
            unit = m.group("unit")
            if unit is None:
                out.append(tok(a, b, "num", value))
            else:
                ua = m.start("unit")
                out.append(tok(a, ua, "num", value))
                out.append(tok(ua, b, "word", unit))
        elif m.group("special"):
            out.append(tok(a, b, "word", m.group("special").replace(" ", "")))
        elif m.group("abbr"):
            out.append(tok(a, b, "word", m.group("abbr") if m.group("abbr") in ("max.", "min.") else
                           m.group("abbr").rstrip(".")))
        elif m.group("word"):
            out.append(tok(a, b, "word", m.group("word").rstrip(".") if m.group("word") not in ("max.", "min.")
                           else m.group("word")))
        elif m.group(0) not in ("'", '"'):  # quotes around a word ("no 'hard' days") carry no meaning
            out.append(tok(a, b, "sym", m.group(0)))
        del kind, line_no
    return out


def _merge(tokens: list[Token], i: int, j: int, cls: str, value=None, unit=None, norm=None, text: str = "") -> Token:
    first, last = tokens[i], tokens[j - 1]
    merged = Token(first.start, last.end, text[first.start:last.end], cls, value, unit, norm,
                   any(t.typo for t in tokens[i:j]))
    return merged


def _lex_key(t: Token) -> str | None:
    if t.cls == "word":
        return t.value
    if t.cls == "sym":
        return t.value
    return None


_MAX_PHRASE = 7


def tokenize(text: str) -> list[Token]:
    """The tokens of a rule sentence, each mapped to a lexicon class (``word`` for unknown words)."""
    norm, where = _normalise(text)
    raw = _raw_tokens(norm, where, text)
    # typo correction of unknown single words (before phrases, so "mondys off" reads "mondays off")
    for prev, t in zip([None] + raw[:-1], raw, strict=False):
        fixed = TYPO_BIGRAMS.get((prev.value if prev is not None else None, t.value)) if t.cls == "word" else None
        if fixed:
            t.value, t.typo, t.norm = fixed, True, fixed
            continue
        if t.cls == "word" and t.value not in PHRASES and t.value not in NUMBER_WORDS and t.value not in MONTHS \
                and t.value not in TIME_UNITS and t.value not in OTHER_UNITS and t.value not in COUNT_WORDS \
                and t.value not in ORDINAL_WORDS and t.value not in ("half", "quarter", "and", "a", "an"):
            fixed = correct_typo(t.value)
            if fixed:
                t.value, t.typo, t.norm = fixed, True, fixed
    out: list[Token] = []
    i = 0
    while i < len(raw):
        t = raw[i]
        # phrases, longest first (number words and units are handled below)
        matched = False
        for n in range(min(_MAX_PHRASE, len(raw) - i), 0, -1):
            keys = [_lex_key(x) for x in raw[i:i + n]]
            if None in keys:
                continue
            phrase = re.sub(r"\s*([-/])\s*", r"\1", " ".join(keys)) if n > 1 else keys[0]
            if phrase in NUMBER_WORDS and n > 1:
                out.append(_merge(raw, i, i + n, "num", float(NUMBER_WORDS[phrase]), text=text))
                i += n
                matched = True
                break
            if phrase in PHRASES and not (n == 1 and phrase in NUMBER_WORDS):
                cls, value = PHRASES[phrase]
                if cls in ("max", "min") and phrase in ("min", "m") and out and out[-1].cls == "num":
                    continue
                out.append(_merge(raw, i, i + n, cls, value, text=text))
                i += n
                matched = True
                break
        if matched:
            continue
        key = _lex_key(t)
        if t.cls == "word" and key in NUMBER_WORDS:
            out.append(Token(t.start, t.end, t.text, "num", float(NUMBER_WORDS[key]), typo=t.typo))
        elif t.cls == "word" and key in COUNT_WORDS:
            out.append(Token(t.start, t.end, t.text, "count", float(COUNT_WORDS[key])))
        elif t.cls == "word" and key in ORDINAL_WORDS:
            out.append(Token(t.start, t.end, t.text, "ordinal", ORDINAL_WORDS[key]))
        elif t.cls == "word" and key in MONTHS:
            out.append(Token(t.start, t.end, t.text, "month", MONTHS[key]))
        elif t.cls == "sym" and key in HARD_STOPS:
            out.append(Token(t.start, t.end, t.text, "stop", key))
        elif t.cls == "sym" and key in (",", ";"):
            out.append(Token(t.start, t.end, t.text, "stop" if key == ";" else "comma", key))
        elif t.cls == "word" and key in SEPARATOR_WORDS:
            out.append(Token(t.start, t.end, t.text, "sep", key))
        elif t.cls == "word" and key in ("half", "quarter", "a", "an", "and", "hour", "hours") \
                or key in TIME_UNITS or key in OTHER_UNITS:
            out.append(Token(t.start, t.end, t.text, "unitword", key))
        else:
            out.append(t)
        i += 1
    for k, t in enumerate(out):  # "May 3rd": the month, not "may" (maybe)
        near = out[max(0, k - 1):k] + out[k + 1:k + 2]
        if t.cls == "cond" and t.text.lower() == "may" and any(x.cls in ("num", "ordinal") for x in near):
            t.cls, t.value = "month", 5
    out = _quantities(out, text)
    return _ranges(out, text)


def _unit_of(t: Token | None):
    """(kind, factor or unit) when t is a unit word; None otherwise."""
    if t is None:
        return None
    word = t.value if t.cls in ("unitword", "word") else None
    if t.cls == "filler" and t.text.lower() == "min":
        word = "min"
    if t.cls == "max" and t.text.lower() in ("min", "min."):
        word = "min"
    if t.cls == "min" and t.text.lower() in ("min", "min."):
        word = "min"
    if t.cls == "metric" and t.value == "tss" and t.text.lower() == "tss":
        return ("other", "tss")
    if t.cls == "days" and t.text.lower() in ("day", "days"):
        return ("other", "days")
    if t.cls == "period" and t.text.lower() == "week":
        return ("other", "weeks")
    if t.cls == "sym" and t.value in ("%", "'"):
        word = t.value
    if word is None:
        return None
    if word in TIME_UNITS:
        return ("time", TIME_UNITS[word])
    if word in OTHER_UNITS:
        return ("other", OTHER_UNITS[word])
    return None


def _quantities(tokens: list[Token], text: str) -> list[Token]:
    """Numbers with their units: durations in minutes ("1h30", "an hour and a half", "90'", "1 hr 20", "half an
    hour"), distances, percentages, TSS, counts ("2x", "3 times"), days and weeks."""
    out: list[Token] = []
    i = 0
    n = len(tokens)

    def val(k):
        return tokens[k] if k < n else None

    def emit(j: int, value, unit: str, shown: str, number: float | None = None):
        out.append(_merge(tokens, i, j, "qty", value, unit, shown, text=text))
        out[-1].number = number

    while i < n:
        t = tokens[i]
        words = [(x.text.lower() if x is not None else "") for x in (val(i), val(i + 1), val(i + 2), val(i + 3),
                                                                        val(i + 4), val(i + 5))]
        # "an hour and a half", "a half hour", "half an hour", "an hour", "a quarter of an hour"
        if words[:5] == ["an", "hour", "and", "a", "half"] or words[:5] == ["one", "hour", "and", "a", "half"]:
            emit(i + 5, 90.0, "min", "90 min")
            i += 5
            continue
        if words[0] == "fortnight":
            emit(i + 1, 2.0, "weeks", "14 days")
            i += 1
            continue
        if words[:3] == ["half", "an", "hour"] or words[:3] == ["a", "half", "hour"]:
            emit(i + 3, 30.0, "min", "30 min")
            i += 3
            continue
        if words[:2] in (["an", "hour"], ["one", "hour"]) or (words[0] == "hour" and not out):
            k = 2 if words[0] != "hour" else 1
            emit(i + k, 60.0, "min", "60 min")
            i += k
            continue
        if t.cls == "num":
            value = float(t.value)
            j = i + 1
            # "4 and a half hours", "two and a half hours"
            if [w for w in words[1:4]] == ["and", "a", "half"]:
                value += 0.5
                j = i + 4
            if val(j) is not None and val(j).text == "-" and _unit_of(val(j + 1)):
                j += 1
            unit = _unit_of(val(j))
            if unit and unit[0] == "time":
                minutes = value * unit[1]
                j += 1
                # "1 hr 20", "1 hour and 15 minutes", "1h 30"
                nxt = val(j)
                if unit[1] == 60 and nxt is not None and nxt.cls == "num" and float(nxt.value) < 60:
                    after = _unit_of(val(j + 1))
                    if after is None or (after[0] == "time" and after[1] == 1):
                        minutes += float(nxt.value)
                        j += 2 if after else 1
                elif unit[1] == 60 and words_at(tokens, j, 1) == ["and"] and val(j + 1) is not None \
                        and val(j + 1).cls == "num":
                    after = _unit_of(val(j + 2))
                    if after and after[0] == "time" and after[1] == 1:
                        minutes += float(val(j + 1).value)
                        j += 3
                if val(j) is not None and val(j).text.lower() == "long":  # "45 minutes long"
                    j += 1
                emit(j, minutes, "min", f"{minutes:g} min", value)
                i = j
                continue
            if unit and unit[0] == "other":
                emit(j + 1, value, unit[1], f"{value:g} {unit[1]}")
                i = j + 1
                continue
        out.append(t)
        i += 1
    return out


def words_at(tokens: list[Token], j: int, k: int) -> list[str]:
    return [t.text.lower() for t in tokens[j:j + k]]


def _ranges(tokens: list[Token], text: str) -> list[Token]:
    """"6-9h", "6 to 9 hours", "between 6 and 9", "4-5 days": one range token (lo, hi) with the unit of either
    end (a range of durations keeps minutes)."""
    out: list[Token] = []
    i = 0
    n = len(tokens)
    while i < n:
        t = tokens[i]
        if t.cls in ("num", "qty"):
            j = i + 1
            if j < n and (tokens[j].text in ("-", "to") or tokens[j].cls == "sym" and tokens[j].value == "-") \
                    and j + 1 < n and tokens[j + 1].cls in ("num", "qty"):
                a, b = t, tokens[j + 1]
                range_token = _range_of(a, b)
                if range_token is not None:
                    out.append(_merge(tokens, i, j + 2, "range", range_token[0], range_token[1],
                                      f"{range_token[0][0]:g}–{range_token[0][1]:g} {range_token[1] or ''}".strip(),
                                      text=text))
                    i = j + 2
                    continue
        if t.cls == "between" and i + 3 < n + 1 and i + 3 <= n - 1 + 1:
            if i + 3 < n + 1 and i + 3 <= n and tokens[i + 1].cls in ("num", "qty") and i + 3 < n + 1 \
                    and i + 2 < n and tokens[i + 2].text.lower() in ("and", "to", "-", "&") \
                    and i + 3 < n and tokens[i + 3].cls in ("num", "qty"):
                range_token = _range_of(tokens[i + 1], tokens[i + 3])
                if range_token is not None:
                    out.append(_merge(tokens, i, i + 4, "range", range_token[0], range_token[1],
                                      f"{range_token[0][0]:g}–{range_token[0][1]:g} {range_token[1] or ''}".strip(),
                                      text=text))
                    i += 4
                    continue
        out.append(t)
        i += 1
    return out


def _range_of(a: Token, b: Token):
    if a.cls == "num" and b.cls == "num":
        return (float(a.value), float(b.value)), None
    if a.cls == "num" and b.cls == "qty":
        unit = b.unit
        if unit == "min":  # "6-9h": the bare number takes the unit's factor ("6-9h" = 360–540 min)
            factor = float(b.value) / (b.number or _bare_number(b))
            return (float(a.value) * factor, float(b.value)), unit
        return (float(a.value), float(b.value)), unit
    if a.cls == "qty" and b.cls == "qty" and a.unit == b.unit:
        return (float(a.value), float(b.value)), a.unit
    return None


def _bare_number(t: Token) -> float:
    m = re.match(r"\s*(\d+(?:[.,]\d+)?)", t.text)
    return float(m.group(1).replace(",", ".")) if m else float(t.value)
