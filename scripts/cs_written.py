#!/usr/bin/env python3
"""Checks the hand-written customer-service training utterances (tests/data/cs_written).

    python3 scripts/cs_written.py check            # validate labels, report counts
    python3 scripts/cs_written.py check --drop     # also rewrite the files without near-copies of dev texts

Validation: allowed label values, unique ids, categories sorted and empty on neutral rows. Leakage: a written row
is a near-copy of an evaluation text when their character-trigram sets overlap with a Dice coefficient of at
least `--overlap` (default 0.5), or they are equal after dropping punctuation. Evaluation texts are every dev-only or
dev-half set of tests/data: sentiment3, robustness, risk, risk_fresh and risk_check utterances and conversation turns, the held-out Taobao
turns and hand-labeled category rows. Near-copies inside the written set itself are reported too. With
`--drop`, rows that nearly copy an evaluation text are removed from the files (the count is printed).
"""
import argparse
import json
import pathlib
import re
import sys
from collections import Counter, defaultdict

ROOT = pathlib.Path(__file__).resolve().parent.parent
DIR = ROOT / "tests" / "data" / "cs_written"
SENTIMENTS = {"negative", "neutral", "positive"}
EMOTIONS = {"none", "like", "happiness", "sadness", "anger", "disgust", "fear", "surprise"}
CATEGORIES = {"service_attitude", "process", "product_quality", "price", "other"}


def key(text):
    return re.sub(r"[\W_]+", "", text).lower()


def grams(text):
    k = key(text)
    return {k[i:i + 3] for i in range(max(1, len(k) - 2))}


def eval_texts():
    """(name, text) of every evaluation text in tests/data."""
    data = ROOT / "tests" / "data"
    out = []
    for rel in ["sentiment3/dev.jsonl", "robustness/dev.jsonl", "risk/utterances.jsonl",
                "risk_fresh/utterances.jsonl", "risk_check/utterances.jsonl"]:
        for line in open(data / rel, encoding="utf-8"):
            out.append((rel, json.loads(line)["text"]))
    for rel in ["risk/conversations.jsonl", "risk_fresh/conversations.jsonl", "risk_check/conversations.jsonl"]:
        for line in open(data / rel, encoding="utf-8"):
            for t in json.loads(line)["turns"]:
                out.append((rel, t["text"]))
    for p in sorted((data / "taobao_turns").glob("labeled_part*.jsonl")):
        for line in open(p, encoding="utf-8"):
            r = json.loads(line)
            if r.get("split") == "dev":
                out.append(("taobao_turns (dev)", r["text"]))
    dev_ids = set(json.load(open(data / "categories" / "split.json"))["dev"])
    for p in sorted((data / "categories").glob("labeled_part*.jsonl")):
        for line in open(p, encoding="utf-8"):
            r = json.loads(line)
            if r.get("id") in dev_ids:
                out.append(("categories (dev)", r["text"]))
    return out


class Index:
    """Trigram index for 'Dice overlap of the trigram sets >= overlap' lookups."""

    def __init__(self, texts):
        self.texts = texts
        self.grams = [grams(t) for _, t in texts]
        self.keys = {key(t): i for i, (_, t) in enumerate(texts)}
        self.post = defaultdict(list)
        for i, g in enumerate(self.grams):
            for x in g:
                self.post[x].append(i)

    def near(self, text, overlap, skip=None):
        k = key(text)
        if k in self.keys and self.keys[k] != skip:
            return self.keys[k], 1.0
        g = grams(text)
        hits = Counter(i for x in g for i in self.post.get(x, ()) if i != skip)
        best = None
        for i, n in hits.most_common(20):
            score = 2 * n / max(1, len(g) + len(self.grams[i]))
            if score >= overlap and (best is None or score > best[1]):
                best = (i, score)
        return best


def read_parts(parts, row_problems):
    """The rows of the labeled files (each with `_file`), and how many problems `row_problems(row)` printed."""
    rows, problems = [], 0
    for p in parts:
        for n, line in enumerate(open(p, encoding="utf-8"), 1):
            r = json.loads(line)
            r["_file"] = p
            for msg in row_problems(r):
                print(f"{p.name}:{n}: {msg}")
                problems += 1
            rows.append(r)
    return rows, problems


def near_copies(rows, index, overlap):
    """(row, (name, text), score) for every row that nearly copies a text of `index`."""
    leaks = []
    for r in rows:
        hit = index.near(r["text"], overlap)
        if hit:
            leaks.append((r, index.texts[hit[0]], hit[1]))
    return leaks


def check(args):
    # next/ holds rows written for a later training run, when there are any (not read by `xinsheng prepare`).
    parts = sorted(DIR.glob("labeled_part*.jsonl")) + sorted((DIR / "next").glob("labeled_part*.jsonl"))
    if not parts:
        sys.exit(f"no labeled_part*.jsonl under {DIR}")
    def row_problems(r):
        if r.get("sentiment") not in SENTIMENTS or r.get("emotion") not in EMOTIONS:
            yield f"bad sentiment/emotion {r.get('sentiment')!r}/{r.get('emotion')!r}"
        cats = r.get("categories")
        if not isinstance(cats, list) or set(cats) - CATEGORIES or cats != sorted(cats):
            yield f"bad categories {cats!r}"
        elif r.get("sentiment") == "neutral" and cats:
            yield f"neutral row with categories {cats}"
        if not r.get("text", "").strip():
            yield "empty text"

    rows, problems = read_parts(parts, row_problems)
    ids = Counter(r.get("id") for r in rows)
    for i, c in ids.items():
        if c > 1:
            print(f"duplicate id {i} ({c}x)")
            problems += 1
    leaks = near_copies(rows, Index(eval_texts()), args.overlap)
    own = Index([(r["id"], r["text"]) for r in rows])
    inner = 0
    for i, r in enumerate(rows):
        hit = own.near(r["text"], args.overlap, skip=i)
        if hit and hit[0] > i:
            inner += 1
            if args.verbose:
                print(f"near-copy inside the set: {r['id']} {r['text']!r} ~ {rows[hit[0]]['id']} {rows[hit[0]]['text']!r}")
    print(f"{len(rows)} rows in {len(parts)} files; {problems} problems")
    print("sentiment:", dict(Counter(r["sentiment"] for r in rows)))
    print("emotion:", dict(Counter(r["emotion"] for r in rows)))
    print("categories:", dict(Counter(c for r in rows for c in r["categories"])))
    print("domain:", dict(Counter(r.get("domain") for r in rows)))
    print(f"near-copies inside the set (trigram Dice >= {args.overlap}): {inner} pairs")
    print(f"near-copies of evaluation texts: {len(leaks)}")
    for r, (name, text), score in leaks:
        print(f"  {r['id']} {r['text']!r} ~ {name}: {text!r} ({score:.2f})")
    if args.drop and leaks:
        drop_rows(parts, rows, [r for r, _, _ in leaks])
    return 1 if problems else 0


def drop_rows(parts, rows, drop):
    """Rewrites each file of `parts` with its rows (those whose `_file` is it) minus the `drop` rows."""
    drop = {id(r) for r in drop}
    for p in parts:
        keep = [r for r in rows if r["_file"] == p and id(r) not in drop]
        with open(p, "w", encoding="utf-8") as f:
            for r in keep:
                f.write(json.dumps({k: v for k, v in r.items() if k != "_file"}, ensure_ascii=False) + "\n")
    print(f"dropped {len(drop)} rows")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="validate labels and look for near-copies of evaluation texts")
    c.add_argument("--overlap", type=float, default=0.5)
    c.add_argument("--drop", action="store_true", help="remove near-copies of evaluation texts from the files")
    c.add_argument("--verbose", action="store_true", help="list near-copies inside the set")
    args = ap.parse_args()
    sys.exit(check(args))


if __name__ == "__main__":
    main()
