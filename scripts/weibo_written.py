#!/usr/bin/env python3
"""Checks the hand-written Weibo-style emotion posts (tests/data/weibo_written).

    python3 scripts/weibo_written.py check            # validate labels, report counts and near-copies
    python3 scripts/weibo_written.py check --drop     # also rewrite the files without near-copies

Validation: `emotion` one of the eight NLPCC 2013 classes, at least two letters or digits (what `xinsheng prepare`
keeps), no text twice (punctuation aside). Leakage: a
written post is a near-copy when its character-trigram set overlaps a text's with a Dice coefficient of at least
`--overlap` (default 0.5), or they are equal after dropping punctuation (`scripts/cs_written.py`'s index). It is
compared with every NLPCC 2013 post in ../shared/data (train and the dev slice `xinsheng prepare` holds out
alike, so the check does not depend on the split) and with every evaluation text `scripts/cs_written.py` knows.
With `--drop`, near-copies are removed from the files (the count is printed).
"""
import argparse
import json
import pathlib
import sys
from collections import Counter

from cs_written import EMOTIONS, Index, drop_rows, eval_texts, key, near_copies, read_parts

ROOT = pathlib.Path(__file__).resolve().parent.parent
DIR = ROOT / "tests" / "data" / "weibo_written"
NLPCC2013 = ROOT.parent / "shared" / "data" / "nlpcc2013_weibo_emotion" / "train.jsonl"


def check(args):
    parts = sorted(DIR.glob("labeled_part*.jsonl"))
    if not parts:
        sys.exit(f"no labeled_part*.jsonl under {DIR}")
    def row_problems(r):
        if r.get("emotion") not in EMOTIONS:
            yield f"bad emotion {r.get('emotion')!r}"
        if len(key(r.get("text", ""))) < 2:
            yield f"fewer than two letters or digits: {r.get('text')!r}"

    rows, problems = read_parts(parts, row_problems)
    for k, c in Counter(key(r["text"]) for r in rows).items():
        if c > 1:
            print(f"text written {c} times: {k}")
            problems += 1
    refs = [("nlpcc2013", json.loads(line)["text"]) for line in open(NLPCC2013, encoding="utf-8")]
    leaks = near_copies(rows, Index(refs + eval_texts()), args.overlap)
    print(f"{len(rows)} rows in {len(parts)} files; {problems} problems")
    print("emotion:", dict(Counter(r["emotion"] for r in rows).most_common()))
    print(f"near-copies of NLPCC 2013 posts or evaluation texts (trigram Dice >= {args.overlap}): {len(leaks)}")
    for r, (name, text), score in leaks:
        print(f"  {r['text']!r} ~ {name}: {text!r} ({score:.2f})")
    if args.drop and leaks:
        drop_rows(parts, rows, [r for r, _, _ in leaks])
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="validate labels and look for near-copies of NLPCC 2013 and evaluation texts")
    c.add_argument("--overlap", type=float, default=0.5)
    c.add_argument("--drop", action="store_true", help="remove near-copies from the files")
    sys.exit(check(ap.parse_args()))


if __name__ == "__main__":
    main()
