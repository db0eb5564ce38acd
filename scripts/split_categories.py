#!/usr/bin/env python3
"""Train/dev split of the hand-labeled complaint-category set (tests/data/categories/), stdlib only.

Rule: dev = candidates whose id number is odd (c0001, c0003, ...), train = even. The candidates were shuffled
with a fixed seed by scripts/sample_category_candidates.py, so parity is a random 50/50 split that also puts half
of each labeler's rows (c0000-c0799, c0800-c1607) on each side. Exception: near-duplicate texts (the same review
stored twice in the source sets, e.g. once in traditional characters and once with those characters lost) must
not straddle the split, so every near-duplicate group follows its smallest id. Near-duplicate = both texts have
≥ 12 distinct character bigrams (after NFKC, lower-casing, traditional->simplified map, dropping punctuation) and
either ≥ 90% of the shorter text's bigrams occur in the other (e.g. the same review with a hotel reply appended), or
the shorter is ≥ half as long and ≥ 60% of its bigrams occur in the other.

Writes tests/data/categories/split.json ({"rule", "dev": [ids], "train": [ids], "near_duplicate_groups"}).
Run from the project root:

    python3 scripts/split_categories.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weak_categories import bigrams, near_duplicate, near_key  # noqa: E402

CANDIDATES = os.path.join("tests", "data", "categories", "candidates.jsonl")
OUT = os.path.join("tests", "data", "categories", "split.json")


def main():
    rows = [json.loads(line) for line in open(CANDIDATES, encoding="utf-8") if line.strip()]
    ids = [r["id"] for r in rows]
    grams = []
    for r in rows:
        n = near_key(r["text"])
        grams.append((n, bigrams(n)))
    parent = {i: i for i in ids}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i in range(len(rows)):
        ki, gi = grams[i]
        if len(gi) < 12:
            continue
        for j in range(i + 1, len(rows)):
            kj, gj = grams[j]
            if near_duplicate(ki, gi, kj, gj):
                a, b = find(ids[i]), find(ids[j])
                if a != b:
                    parent[max(a, b)] = min(a, b)
    groups = {}
    for i in ids:
        groups.setdefault(find(i), []).append(i)
    dup_groups = sorted(sorted(g) for g in groups.values() if len(g) > 1)
    dev, train = [], []
    for i in ids:
        root = min(groups[find(i)])
        (dev if int(root[1:]) % 2 == 1 else train).append(i)
    out = {
        "rule": "dev = odd id number, train = even; near-duplicate groups follow their smallest id (scripts/split_categories.py)",
        "dev": sorted(dev),
        "train": sorted(train),
        "near_duplicate_groups": dup_groups,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"dev {len(dev)}  train {len(train)}  near-duplicate groups {len(dup_groups)}: {dup_groups}")


if __name__ == "__main__":
    main()
