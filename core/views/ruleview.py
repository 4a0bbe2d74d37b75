"""The rule preview, built without streamlit: per clause, the rider's words, the constraint(s) they produced, which
word did what, and what each group covers ("hard = sweet spot, threshold, …; sweet spot counts as hard: yes");
the other reading when the AI and the built-in reader disagree. Every string is escaped for Markdown."""

from __future__ import annotations

from core.coach.rules.model import covers, describe
from core.views.text import md

ROLE_WORDS = {"negation": "negation", "modality": "limit", "number": "number", "unit": "per", "day": "day",
              "type": "workout", "group": "group", "phase": "phase", "scope": "scope", "except": "except",
              "event": "event", "kind": "rule word", "date": "date"}


def _word(w) -> str:
    said = f"“{md(w.text)}”"
    role = ROLE_WORDS.get(w.role, w.role)
    return f"{said} = {md(w.normalised)} ({role})" if w.normalised else f"{said} ({role})"


def clause_lines(parsed, *, hard_includes_sweet_spot: bool = True) -> list[str]:
    """Markdown lines: each clause of the parse with its constraints, the words that produced them and the groups'
    coverage; constraints without a clause (upgraded rules) are listed plainly."""
    lines: list[str] = []
    listed: set[int] = set()
    for clause in parsed.clauses:
        lines.append(f"- “{md(clause.span.text)}” (confidence {clause.confidence:.0%})")
        for i in clause.constraints:
            listed.add(i)
            c = parsed.constraints[i]
            lines.append(f"    - → {md(describe(c))}")
            lines += [f"        - {md(text)}" for text in covers(c, hard_includes_sweet_spot=hard_includes_sweet_spot)]
        if clause.words:
            lines.append("    - words: " + "; ".join(_word(w) for w in clause.words))
    for i, c in enumerate(parsed.constraints):
        if i not in listed:
            lines.append(f"- {md(describe(c))}")
            lines += [f"    - {md(text)}" for text in covers(c, hard_includes_sweet_spot=hard_includes_sweet_spot)]
    return lines


def alternative_lines(parsed, *, hard_includes_sweet_spot: bool = True) -> list[str]:
    """When the AI's reading differs from the built-in reader's: that other reading, in the same form."""
    other = getattr(parsed, "alternative", None)
    if other is None:
        return []
    head = f"The built-in reader's reading ({other.status}):"
    body = clause_lines(other, hard_includes_sweet_spot=hard_includes_sweet_spot)
    body += [f"- not understood: “{md(u.text)}” — {md(u.suggestion)}" for u in other.unparsed]
    return [head, *body]
