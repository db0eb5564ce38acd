#!/usr/bin/env python3
"""Draw the candidate texts for the hand-labeled complaint-category set (tests/data/categories/).

Seeded and stratified by source, 3 negative reviews for every positive one, 8-200 characters, deduplicated
after dropping punctuation and whitespace, nothing from ChnSentiCorp dev. Reads ../shared/data; writes
tests/data/categories/candidates.jsonl (id, source, sentiment, text). Run from the project root:

    python3 scripts/sample_category_candidates.py
"""
import gzip
import json
import os
import random
import re
import unicodedata

SHARED = os.path.join("..", "shared", "data")
PLAN = [  # (source, file, how many)
    ("waimai_10k", "waimai_10k/all.jsonl", 500),
    ("online_shopping_10_cats", "online_shopping_10_cats/all.jsonl.gz", 700),
    ("chnsenticorp_htl_all", "chnsenticorp_htl_all/all.jsonl", 180),
    ("nlpcc2014_sc", "nlpcc2014_sc/train.jsonl", 200),
    ("chnsenticorp", "chnsenticorp/train.jsonl", 120),
]


def key(text):
    t = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\W_]+", "", t)


def rows(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(os.path.join(SHARED, path), "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def main():
    rng = random.Random(20261129)
    seen = {key(r["text"]) for r in rows("chnsenticorp/dev.jsonl")}
    out = []
    for source, path, n in PLAN:
        pool = {"negative": [], "positive": []}
        for r in rows(path):
            text = " ".join(r["text"].split())
            k = key(text)
            if not 8 <= len(text) <= 200 or k in seen or r.get("sentiment") not in pool:
                continue
            seen.add(k)
            pool[r["sentiment"]].append(text)
        # Later sources overlap earlier ones (hotel reviews are in several sets): take what is left.
        neg = min(round(n * 0.75), len(pool["negative"]))
        picked = [("negative", t) for t in rng.sample(pool["negative"], neg)]
        picked += [("positive", t) for t in rng.sample(pool["positive"], min(n - neg, len(pool["positive"])))]
        rng.shuffle(picked)
        out += [(source, s, t) for s, t in picked]
    rng.shuffle(out)
    os.makedirs(os.path.join("tests", "data", "categories"), exist_ok=True)
    with open(os.path.join("tests", "data", "categories", "candidates.jsonl"), "w", encoding="utf-8") as f:
        for i, (source, s, t) in enumerate(out):
            f.write(json.dumps({"id": f"c{i:04d}", "source": source, "sentiment": s, "text": t},
                               ensure_ascii=False) + "\n")
    print(f"{len(out)} candidates")


if __name__ == "__main__":
    main()
