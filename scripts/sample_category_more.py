#!/usr/bin/env python3
"""Draw more candidate texts for hand-labeled complaint categories: training rows only (ids c1608 on).

Part 3 (c1608-c3207) is the default draw; part 4 (c3208-c4807) is `--part 4 --first-id 3208 --seed 20261202`,
which also excludes part 3's texts and shifts the quotas to the labels still weakest on dev after part 3
(other 0.51, service_attitude 0.71, price 0.72): 15% plain negatives, 5% plain positives, 25% staff hints, 20%
money hints, 25% `other` hints (location, surroundings, a brand or platform as a whole, "never again"), 10% hotel.

The first 1,608 candidates (scripts/sample_category_candidates.py) are 63% product_quality; service_attitude,
price and other have 44-62 positives each in dev. This draw adds rows for the training side, half of them
chosen by broad hint words for the thin labels (hints pick candidates, the labels come from reading them):

  * 30% plain draw (3 negative : 1 positive, like the first candidates)
  * 25% negatives with a staff/attitude hint, 25% with a money hint, 10% with a waiting/handling hint
  * 10% hotel negatives (location and surroundings: the `other` label)

Excluded: every earlier candidate (exact key), every text of a dev split that `xinsheng prepare` holds out
(build/eval/dataset/dev_*.jsonl or build/dataset/dev_*.jsonl, exact key), and near-copies of the hand-labeled
dev rows (character-trigram Dice >= 0.5, the index of scripts/cs_written.py). Seeded; reads ../shared/data. Run from the project root after
`./target/release/xinsheng prepare --out build/dataset`:

    python3 scripts/sample_category_more.py --n 1600 --out build/category_more.jsonl
    python3 scripts/sample_category_more.py --part 4 --first-id 3208 --seed 20261202 --out build/category_part4.jsonl
"""
import argparse
import glob
import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cs_written import Index  # noqa: E402
from sample_category_candidates import PLAN, key, rows  # noqa: E402

HINTS = {
    "attitude": r"态度|服务员|客服|前台|店员|老板|骑手|送餐员|快递员|小哥|不理|脸色|不耐烦|骂|凶|服务差|服务不好|素质",
    "money": r"贵|价格|价钱|性价比|不值|收费|退款|退钱|扣钱|多收|配送费|运费|优惠|红包|满减|降价|元|块",
    "handling": r"慢|等了|小时|分钟|迟|催|物流|快递|发货|退货|换货|取消|打不通|处理",
}
HOTEL = r"酒店|宾馆|入住|房间"
# part 4 (--part 4): the `other` label (location, surroundings, the brand or platform as a whole, "never again")
OTHER = r"位置|地段|地理|交通|偏僻|太偏|周边|周围|附近|环境|打车|蒙牛|伊利|京东|淘宝|再也不|以后不|不会再|最差|垃圾|骗"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1600)
    ap.add_argument("--out", default="build/category_more.jsonl")
    ap.add_argument("--first-id", type=int, default=1608)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--part", type=int, choices=(3, 4), default=3,
                    help="3: the part-3 draw; 4: also excludes part 3's texts and draws for the thin labels "
                         "(20%% plain, 25%% attitude, 20%% money, 25%% other hints, 10%% hotel)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    seen = {key(r["text"]) for r in rows("chnsenticorp/dev.jsonl")}
    with open("tests/data/categories/candidates.jsonl", encoding="utf-8") as f:
        seen |= {key(json.loads(line)["text"]) for line in f}
    dev_files = glob.glob("build/dataset/dev_*.jsonl") or glob.glob("build/eval/dataset/dev_*.jsonl")
    if not dev_files:
        raise SystemExit("no dev splits found: run ./target/release/xinsheng prepare --out build/dataset first")
    for p in dev_files:
        with open(p, encoding="utf-8") as f:
            seen |= {key(json.loads(line)["text"]) for line in f}
    with open(os.path.join(os.path.dirname(dev_files[0]), "dev_handcat.jsonl"), encoding="utf-8") as f:
        dev_index = Index([("handcat (dev)", json.loads(line)["text"]) for line in f])
    pool = []  # (source, sentiment, text)
    for source, path, _ in PLAN:
        for r in rows(path):
            text = " ".join(r["text"].split())
            k = key(text)
            if not 8 <= len(text) <= 200 or k in seen or r.get("sentiment") not in ("negative", "positive"):
                continue
            seen.add(k)
            pool.append((source, r["sentiment"], text))
    rng.shuffle(pool)
    n = args.n
    quota = [("plain_neg", round(n * 0.225)), ("plain_pos", round(n * 0.075)), ("attitude", round(n * 0.25)),
             ("money", round(n * 0.25)), ("handling", round(n * 0.10))]
    if args.part == 4:
        quota = [("plain_neg", round(n * 0.15)), ("plain_pos", round(n * 0.05)), ("attitude", round(n * 0.25)),
                 ("money", round(n * 0.20)), ("other", round(n * 0.25))]
    quota.append(("hotel", n - sum(q for _, q in quota)))
    picked, used = [], set()
    for name, q in quota:
        got = 0
        for i, (source, s, text) in enumerate(pool):
            if got == q:
                break
            if i in used:
                continue
            if name == "plain_pos":
                ok = s == "positive"
            elif name == "plain_neg":
                ok = s == "negative"
            elif name == "other":
                ok = s == "negative" and re.search(OTHER, text) is not None
            elif name == "hotel":
                # hotel reviews sit in several sets (online_shopping_10_cats has a hotel class)
                ok = s == "negative" and re.search(HOTEL, text) is not None
            else:
                ok = s == "negative" and re.search(HINTS[name], text) is not None
            if not ok:
                continue
            if dev_index.near(text, 0.5) is not None:
                continue
            used.add(i)
            picked.append((source, s, text, name))
            got += 1
    rng.shuffle(picked)
    with open(args.out, "w", encoding="utf-8") as f:
        for i, (source, s, text, why) in enumerate(picked):
            f.write(json.dumps({"id": f"c{args.first_id + i:04d}", "source": source, "sentiment": s,
                                "drawn_as": why, "text": text}, ensure_ascii=False) + "\n")
    print(f"{len(picked)} candidates -> {args.out}")


if __name__ == "__main__":
    main()
