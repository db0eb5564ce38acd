#!/usr/bin/env python3
"""Categories macro-F1 of model directories on the hand-labeled category rows, training side and dev side, at
each model's own thresholds: does a model fit the labels it was trained on (training side), and how far does
that carry (dev)? Reads a corpus written by `xinsheng prepare` (rows of source `handcat` in train.jsonl, and
dev_handcat.jsonl). PyTorch f32.

    python3 scripts/category_fit.py --data build/dataset models/default [MODEL_DIR ...]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_torch as T  # noqa: E402


def f1s(rows, probs, thresholds):
    out = []
    for j in range(len(T.CATEGORIES)):
        gold = [r["categories"][j] for r in rows]
        pred = [float(probs[i, j]) >= thresholds[j] for i in range(len(rows))]
        tp = sum(g and p for g, p in zip(gold, pred))
        wrong = sum(g != p for g, p in zip(gold, pred))
        out.append(2 * tp / max(1, 2 * tp + wrong))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="build/dataset")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sides = [("train", [r for r in T.read(os.path.join(args.data, "train.jsonl")) if r.get("source") == "handcat"]),
             ("dev", T.read(os.path.join(args.data, "dev_handcat.jsonl")))]
    print("| model | side | rows | " + " | ".join(T.CATEGORIES) + " | macro-F1 |")
    print("|---|---|---|" + "---|" * (len(T.CATEGORIES) + 1))
    for d in args.models:
        net, cfg = T.load_model_dir(d, corpus_tokenizer=T.CORPUS_TOKENIZER)
        net.eval()
        thresholds = next(h for h in cfg["xinsheng"]["heads"] if h["name"] == "categories")["thresholds"]
        for side, rows in sides:
            f = f1s(rows, T.probabilities(net, rows)["categories"], thresholds)
            print(f"| {d} | {side} | {len(rows)} | " + " | ".join(f"{x:.3f}" for x in f) + f" | {sum(f) / len(f):.3f} |")


if __name__ == "__main__":
    main()
