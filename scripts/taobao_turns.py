#!/usr/bin/env python3
"""Customer turns of the Taobao e-commerce dialogue sample, for hand labeling (issue 3/4).

The sample (../shared/data/taobao_ecd_dialogue_sample/sessions.jsonl) is unlabelled. Every session ends with the
agent's reply and alternates speakers, so counting back from the end, turns at odd distance are the customer's.
This script lists each distinct customer text once (first occurrence, with the agent turns around it as context)
and assigns it to a split by its session: even session number -> train, odd -> dev. A text that also occurs
in a train session is train (so dev never repeats a training text).

    python3 scripts/taobao_turns.py extract --out tests/data/taobao_turns/unlabeled.jsonl
    python3 scripts/taobao_turns.py check tests/data/taobao_turns/labeled.jsonl
"""
import argparse
import json
import pathlib
import sys
from collections import Counter

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "data" / "taobao_ecd_dialogue_sample" / "sessions.jsonl"
SENTIMENTS = {"negative", "neutral", "positive"}
CATEGORIES = {"service_attitude", "process", "product_quality", "price", "other"}


def customer_turns(path):
    """Yield (session, turn index, text, agent turn before, agent turn after) for every customer turn."""
    with open(path, encoding="utf-8") as f:
        for session, line in enumerate(f):
            turns = json.loads(line)["turns"]
            for i, text in enumerate(turns):
                if (len(turns) - 1 - i) % 2 == 1:
                    before = turns[i - 1] if i > 0 else ""
                    after = turns[i + 1] if i + 1 < len(turns) else ""
                    yield session, i, text.strip(), before, after


def extract(args):
    rows = {}
    in_train = set()
    for session, i, text, before, after in customer_turns(args.source):
        if not text:
            continue
        if session % 2 == 0:
            in_train.add(text)
        rows.setdefault(text, {"session": session, "turn": i, "text": text, "agent_before": before, "agent_after": after})
    out = []
    for n, row in enumerate(rows.values()):
        split = "train" if row["text"] in in_train else "dev"
        out.append({"id": f"tb{n:04d}", "split": split, **row})
    with open(args.out, "w", encoding="utf-8") as f:
        for row in out:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(out)} distinct customer texts -> {args.out} ({Counter(r['split'] for r in out)})")


def check(args):
    problems = 0
    counts = Counter()
    cats = Counter()
    ids = set()
    for n, line in enumerate(open(args.file, encoding="utf-8"), 1):
        row = json.loads(line)
        where = f"{args.file}:{n} ({row.get('id')})"
        if row["id"] in ids:
            print(f"{where}: duplicate id"); problems += 1
        ids.add(row["id"])
        if row.get("sentiment") not in SENTIMENTS:
            print(f"{where}: sentiment {row.get('sentiment')!r}"); problems += 1
        bad = set(row.get("categories", [])) - CATEGORIES
        if bad or not isinstance(row.get("categories"), list):
            print(f"{where}: categories {row.get('categories')!r}"); problems += 1
        if row.get("sentiment") != "negative" and row.get("categories"):
            print(f"{where}: categories on a non-negative row"); problems += 1
        counts[(row["split"], row.get("sentiment"))] += 1
        for c in row.get("categories", []):
            cats[(row["split"], c)] += 1
    for key in sorted(counts):
        print(*key, counts[key])
    for key in sorted(cats):
        print(*key, cats[key])
    sys.exit(1 if problems else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("extract", help="list distinct customer turns with context and split")
    e.add_argument("--source", default=str(SOURCE))
    e.add_argument("--out", required=True)
    e.set_defaults(run=extract)
    c = sub.add_parser("check", help="validate a labeled file and print label counts")
    c.add_argument("file")
    c.set_defaults(run=check)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
