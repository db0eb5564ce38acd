#!/usr/bin/env python3
"""How should the windows of a long text be combined? A probe, not a shipped component.

    python3 scripts/window_probe.py --data build/dataset --model models/default

A text longer than the model's window (158 content tokens) is read in overlapping windows and xinsheng takes the
mean of their sentiment probabilities (`Model::aggregate_windows`). This probe reads the long dev texts of the
binary review sets (ChnSentiCorp, NLPCC 2014, other reviews) with the network alone (PyTorch f32) and counts
the rows right (negative vs positive) under other combinations: the mean of the logits, the first or last
window alone, the last window counted twice, the most confident window, the mean log-odds, for three window
strides (0.75 of a window, as shipped; 0.5; 0.25), and the head and tail alone, as training truncates.
Tokenizes the raw text with the corpus tokenizer (checked: the same ids as `xinsheng prepare` on every
short dev text). Needs scripts/requirements-bench.txt (tokenizers).
"""
import argparse
import json
import os
import sys

import torch
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_torch as tt  # noqa: E402

SPLITS = ["chnsenticorp", "nlpcc2014", "reviews"]


def windows(ids, budget, stride_frac):
    """Content windows as `split_windows` in src/model/tokenize.rs makes them, at another stride."""
    if len(ids) <= budget:
        return [ids]
    stride, out, start = max(1, int(budget * stride_frac)), [], 0
    while start + budget < len(ids):
        out.append(ids[start:start + budget])
        start += stride
    return out + [ids[-budget:]]


def right(p, gold):
    return (0 if p[0] > p[2] else 2) == gold


COMBINE = {
    "mean of probabilities (shipped)": lambda L, P: P.mean(0),
    "mean of logits": lambda L, P: L.mean(0),
    "first window": lambda L, P: P[0],
    "last window": lambda L, P: P[-1],
    "last window twice": lambda L, P: (P.sum(0) + P[-1]) / (len(P) + 1),
    "most confident window": lambda L, P: P[(P[:, 0] - P[:, 2]).abs().argmax()],
    "mean log-odds": lambda L, P: torch.tensor([0.0, 0.0, (P[:, 2].log() - P[:, 0].log()).mean().item()]),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="build/dataset")
    ap.add_argument("--model", default="models/default")
    args = ap.parse_args()
    tok = Tokenizer.from_file(os.path.join(tt.CORPUS_TOKENIZER, "tokenizer.json"))
    net = tt.load_run(args.model)
    cfg = json.load(open(os.path.join(args.model, "config.json")))
    budget = cfg["xinsheng"]["max_length"] - 2
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")

    def logits(seqs):
        rows = [{"ids": [cls] + s + [sep]} for s in seqs]
        return torch.stack([p["sentiment"] for p in tt.predict(net, rows)]) if rows else torch.zeros(0, 3)

    print("| split | long rows | " + " | ".join(["stride"] + list(COMBINE)) + " |")
    print("|---|---|" + "---|" * (len(COMBINE) + 1))
    for split in SPLITS:
        rows = [r for r in tt.read(os.path.join(args.data, f"dev_{split}.jsonl")) if r.get("sentiment") is not None]
        raw = [tok.encode(r["text"], add_special_tokens=False).ids for r in rows]
        short = [i for i, x in enumerate(raw) if len(x) <= budget]
        bad = sum([cls] + raw[i] + [sep] != rows[i]["ids"] for i in short)
        if bad:
            raise SystemExit(f"{split}: {bad} short texts tokenize differently from the prepared ids")
        longi = [i for i, x in enumerate(raw) if len(x) > budget]
        for frac in (0.75, 0.5, 0.25):
            owner, seqs = [], []
            for i in longi:
                for w in windows(raw[i], budget, frac):
                    owner.append(i)
                    seqs.append(w)
            L = logits(seqs)
            P = torch.softmax(L, -1)
            parts = {}
            for k, i in enumerate(owner):
                parts.setdefault(i, []).append(k)
            counts = [sum(right(fn(L[parts[i]], P[parts[i]]), rows[i]["sentiment"]) for i in longi)
                      for fn in COMBINE.values()]
            print(f"| {split} | {len(longi)} | {frac} | " + " | ".join(map(str, counts)) + " |", flush=True)
        half = budget // 2
        ht = logits([raw[i][:half] + raw[i][-(budget - half):] for i in longi])
        print(f"{split}: head and tail alone: {sum(right(p, rows[i]['sentiment']) for i, p in zip(longi, ht))} "
              f"of {len(longi)} right", flush=True)


if __name__ == "__main__":
    main()
