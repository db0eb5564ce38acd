#!/usr/bin/env python3
"""Propose risk phrases from labeled *training* utterances (never from the dev sets).

For every reason code, finds the rows labeled with it that the policy's current phrases miss, and proposes
short substrings (2-4 characters, or two such pieces joined as a proximity phrase `A*B`) that cover many of
them and few rows without the reason. Background text (rows of the training sets without that reason, plus
the written customer-service utterances in tests/data/cs_written) counts against a candidate, so a word
common in ordinary complaints is not proposed. Training rows that nearly copy an evaluation text (the test of
scripts/cs_written.py) are left out and listed. The output is a list for a person to read: a phrase is added
to the policy by hand, then measured on the dev sets' held-out halves.

    python3 scripts/mine_phrases.py tests/data/risk_train/a tests/data/risk_train/b
    python3 scripts/mine_phrases.py DIR... --reason service_outage --min-precision 0.9 --top 15
    xinsheng eval-risk --utterances DIR/utterances.jsonl --misses > ev.json
    python3 scripts/mine_phrases.py DIR --eval ev.json        # missed = what the engine missed

Matching is approximate (plain substring tests on NFKC text; no negation or question check), so a proposal's
counts are an upper bound; `xinsheng eval-risk` on the training set is the real measure.
"""
import argparse
import collections
import glob
import json
import os
import re
import sys
import tomllib
import unicodedata

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
PUNCT = re.compile(r"[\s，。！？、；：,.!?;:\"'“”‘’（）()《》【】…~—\-]+")


def norm(text):
    return unicodedata.normalize("NFKC", text).lower()


def load_rows(dirs):
    rows = []
    for d in dirs:
        path = os.path.join(d, "utterances.jsonl")
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    o = json.loads(line)
                    rows.append({"id": o["id"], "text": norm(o["text"]), "reasons": set(o.get("reasons", []))})
    return rows


def background():
    texts = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/data/cs_written/labeled_part*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            texts += [norm(json.loads(line)["text"]) for line in f if line.strip()]
    return texts


def matches(text, phrase, gap):
    """Substring, or a proximity phrase A*B (B within `gap` characters after A)."""
    if "*" not in phrase:
        return phrase in text
    a, b = phrase.split("*", 1)
    return re.search(re.escape(a) + f".{{0,{gap}}}" + re.escape(b), text) is not None


def pieces(text, lo=2, hi=4):
    out = set()
    for chunk in PUNCT.split(text):
        for n in range(lo, hi + 1):
            for i in range(len(chunk) - n + 1):
                out.add(chunk[i:i + n])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", help="training sets (directories with utterances.jsonl)")
    ap.add_argument("--policy", default=os.path.join(ROOT, "models/default/policy.toml"))
    ap.add_argument("--reason", action="append", help="only these reason codes (repeatable)")
    ap.add_argument("--min-precision", type=float, default=0.85,
                    help="share of the rows a candidate matches that carry the reason (background counts "
                         "as rows without it)")
    ap.add_argument("--min-support", type=int, default=2, help="missed rows a candidate must cover")
    ap.add_argument("--top", type=int, default=10, help="proposals per reason (greedy cover)")
    ap.add_argument("--gap", type=int, default=8, help="proximity gap for A*B candidates")
    ap.add_argument("--eval", action="append", metavar="FILE",
                    help="output of `xinsheng eval-risk --misses` on the training sets (repeatable): a row is "
                         "missed when the engine did not give the reason, instead of the approximate phrase test")
    ap.add_argument("--overlap", type=float, default=0.5,
                    help="character-trigram Dice overlap at which a training row counts as a copy of an "
                         "evaluation text (left out)")
    args = ap.parse_args()

    with open(args.policy, "rb") as f:
        policy = tomllib.load(f)
    gap = policy.get("matching", {}).get("proximity_gap", args.gap)
    rows = load_rows(args.dirs)
    # A training row that nearly copies an evaluation text (cs_written.py's test) is left out.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from cs_written import Index, eval_texts
    index = Index(eval_texts())
    leaks = [r["id"] for r in rows if index.near(r["text"], args.overlap)]
    if leaks:
        print(f"left out {len(leaks)} rows that nearly copy an evaluation text: {', '.join(leaks)}", file=sys.stderr)
        rows = [r for r in rows if r["id"] not in set(leaks)]
    bg = background()
    # With --eval, a row is missed when the engine itself did not give the reason (negation, questions and
    # normalization included); a row absent from the misses got every reason right.
    engine = None
    if args.eval:
        engine = {}
        for path in args.eval:
            with open(path, encoding="utf-8") as f:
                for m in json.load(f)["utterance_misses"]:
                    engine[m["id"]] = set(m["reasons"][1])
    print(f"{len(rows)} training rows, {len(bg)} background texts, policy {os.path.relpath(args.policy, ROOT)}",
          file=sys.stderr)
    for code, rule in policy["reasons"].items():
        if args.reason and code not in args.reason:
            continue
        phrases = [norm(p) for p in rule["phrases"]]
        pos = [r for r in rows if code in r["reasons"]]
        if engine is not None:
            missed = [r for r in pos if code not in engine.get(r["id"], r["reasons"])]
        else:
            missed = [r for r in pos if not any(matches(r["text"], p, gap) for p in phrases)]
        others = [r["text"] for r in rows if code not in r["reasons"]] + bg
        print(f"\n## {code}: {len(pos)} rows labeled, {len(missed)} missed by the current phrases")
        if not missed:
            continue
        counts = collections.Counter()
        for r in missed:
            counts.update(pieces(r["text"]))
        cands = [c for c, n in counts.items() if n >= args.min_support]
        # Proximity pairs from the two best-supported pieces of each missed row.
        pair_counts = collections.Counter()
        for r in missed:
            ps = sorted((c for c in pieces(r["text"]) if counts[c] >= args.min_support), key=lambda c: -counts[c])[:12]
            for a in ps:
                for b in ps:
                    if a != b and not (a in b or b in a):
                        p = f"{a}*{b}"
                        if matches(r["text"], p, gap):
                            pair_counts[p] += 1
        cands += [p for p, n in pair_counts.items() if n >= args.min_support]
        scored = []
        for c in cands:
            covers = {r["id"] for r in missed if matches(r["text"], c, gap)}
            if len(covers) < args.min_support:
                continue
            neg = sum(1 for t in others if matches(t, c, gap))
            hits = sum(1 for r in pos if matches(r["text"], c, gap))
            precision = hits / (hits + neg)
            if precision >= args.min_precision:
                scored.append((c, covers, hits, neg, precision))
        uncovered = {r["id"] for r in missed}
        texts = {r["id"]: r["text"] for r in missed}
        for _ in range(args.top):
            best = max(scored, key=lambda s: (len(s[1] & uncovered), s[4], len(s[0])), default=None)
            if best is None or len(best[1] & uncovered) < args.min_support:
                break
            c, covers, hits, neg, precision = best
            new = sorted(covers & uncovered)
            alts = [a[0] for a in sorted(scored, key=lambda a: -a[4])
                    if a[0] != c and a[1] & uncovered == covers & uncovered][:4]
            uncovered -= covers
            print(f"  {c!r:14} covers {len(new)} missed rows ({', '.join(new[:6])}), matches {hits} labeled / {neg} "
                  f"other, precision {precision:.2f}; e.g. {texts[new[0]][:40]}"
                  + (f"\n      same rows: {', '.join(alts)}" if alts else ""))
        print(f"  still missed: {len(uncovered)}: " + "; ".join(texts[i][:30] for i in sorted(uncovered)[:8]))


if __name__ == "__main__":
    main()
