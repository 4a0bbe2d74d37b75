"""Rule parser benchmark over tests/data/rule_corpus: exact-match accuracy, partial, refused, confident-but-wrong.

    python bench/rule_parse.py [--show-failures] [--slice all|tuning|held-out]

Definitions (issue 11; core/coach/rules/scoring.py): *exact* = the same constraints (kind, days, types, phase,
limit, unit), status and unparsed phrases as expected; *confident-but-wrong* = a constraint not expected from a
clause with confidence ≥ 0.7 (for a must-refuse sentence: any constraint).

*held-out* = entries whose sha256(id) % 5 == 0 (about 20 %). The grammar was written and tuned on the other
entries. First sight of the held-out slice (110 sentences): 72.7 % exact, 5 confident-but-wrong; the second batch
(fresh.jsonl, 60 sentences written before the parser read them): 93.3 % exact, 0 confident-but-wrong; the
third batch (third.jsonl, 40 sentences): 95 % exact, 0 confident-but-wrong; the fourth (fourth.jsonl, 26):
80.8 % exact, 0 confident-but-wrong. After that
only the original held-out entries read confidently-but-wrongly were looked at (and fixed by general rules); their
exact misses were never used for tuning. The later batches' misses were fixed after their first-sight figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.coach.rules.parser import DeterministicParser  # noqa: E402
from core.coach.rules.result import ParseContext  # noqa: E402
from core.coach.rules.scoring import held_out, score  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "rule_corpus"


def load_corpus() -> list[dict]:
    out = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
    return out


def run(entries: list[dict]) -> tuple[dict, list]:
    parser = DeterministicParser()
    totals = {"n": 0, "exact": 0, "partial": 0, "refused": 0, "understood": 0, "confident_but_wrong": 0}
    failures = []
    for entry in entries:
        context = ParseContext(**entry.get("context", {}))
        result = parser.parse(entry["text"], context)
        s = score(entry, result)
        totals["n"] += 1
        totals["exact"] += s["exact"]
        totals[s["status"]] += 1
        totals["confident_but_wrong"] += s["confident_but_wrong"]
        if not s["exact"] or s["confident_but_wrong"]:
            failures.append((entry, result, s))
    return totals, failures


def _line(name: str, t: dict) -> str:
    pct = 100 * t["exact"] / t["n"] if t["n"] else 0.0
    return (f"{name:<9} {t['n']:>4} sentences  exact {t['exact']:>4} ({pct:5.1f} %)  understood {t['understood']:>4}"
            f"  partial {t['partial']:>3}  refused {t['refused']:>3}  confident-but-wrong {t['confident_but_wrong']}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show-failures", action="store_true")
    ap.add_argument("--slice", choices=("all", "tuning", "held-out"), default="all")
    args = ap.parse_args(argv)
    entries = load_corpus()
    tuning = [e for e in entries if not held_out(e["id"])]
    held = [e for e in entries if held_out(e["id"])]
    started = time.perf_counter()
    results = {}
    for name, part in (("tuning", tuning), ("held-out", held)):
        if args.slice in ("all", name):
            results[name] = run(part)
    elapsed = time.perf_counter() - started
    print("rule parser on tests/data/rule_corpus (held-out = sha256(id) % 5 == 0: the grammar was not tuned on "
          "its exact misses; first sight 72.7 % exact, see the docstring)")
    total = {k: 0 for k in ("n", "exact", "partial", "refused", "understood", "confident_but_wrong")}
    for name, (t, _) in results.items():
        print(_line(name, t))
        for k in total:
            total[k] += t[k]
    print(_line("all", total))
    n = total["n"] or 1
    print(f"{1000 * elapsed / n:.2f} ms per sentence")
    if args.show_failures:
        for name, (_, failures) in results.items():
            for entry, result, s in failures:
                got = [json.dumps({k: v for k, v in c.model_dump(mode='json', exclude_defaults=True).items()})
                       for c in result.constraints]
                flag = "CBW " if s["confident_but_wrong"] else ""
                print(f"\n[{name}] {flag}{entry['id']}: {entry['text']}\n  expected {entry['status']}: "
                      f"{[json.dumps(c) for c in entry['constraints']]} {entry.get('unparsed', '')}\n"
                      f"  got {result.status}: {got} unparsed={[u.text for u in result.unparsed]}"
                      f" {[u.suggestion[:80] for u in result.unparsed][:1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
