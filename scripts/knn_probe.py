#!/usr/bin/env python3
"""Would a memory of the training rows help the sentiment head? A probe, not a shipped component.

    python3 scripts/knn_probe.py --data build/dataset --model models/default --out build/knn

Encodes every sentiment-labeled training row and every dev row with the model's sentiment pooling (the vector its
sentiment head reads), L2-normalized; for each dev row takes the k most similar training rows and turns their
labels into a distribution (softmax of similarity / tau over the k neighbours); then mixes it with the network's
own probabilities, p = (1 - lam) * p_net + lam * p_knn. Prints a table per (k, tau, lam): binary accuracy on the
review sets, three-way accuracy on the customer-service sets, and the selection mean the n-gram blends use
(ChnSentiCorp, NLPCC 2014, other reviews, cs_written, Taobao). The encodings are cached in OUT so a second run
with other grids is quick. Reads build/dataset as `xinsheng prepare` wrote it (head and tail of long texts).
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_torch as tt  # noqa: E402

BINARY = ["chnsenticorp", "nlpcc2014", "reviews"]
THREE_WAY = ["cs_written", "taobao", "sentiment3", "robustness", "neutral"]
SELECTION = ["chnsenticorp", "nlpcc2014", "reviews", "cs_written", "taobao"]


@torch.no_grad()
def encode(net, rows, how, bs=128):
    """(pooled vectors [n, h] L2-normalized, sentiment probabilities [n, 3]) in row order."""
    net.eval()
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]["ids"]))
    vecs = torch.zeros(len(rows), net.pooler.out_features)
    probs = torch.zeros(len(rows), 3)
    started = time.time()
    for s in range(0, len(order), bs):
        idx = order[s:s + bs]
        ids, mask = tt.tensors(rows, idx)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            x = net.encode(ids, mask)
            pooled = net.pool(x, mask, how)
            logits = net.heads["sentiment"](pooled)
        vecs[idx] = torch.nn.functional.normalize(pooled.float(), dim=-1)
        probs[idx] = torch.softmax(logits.float(), -1)
        if s // bs % 100 == 0:
            print(f"  {s}/{len(rows)} rows, {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    return vecs, probs


def cached(path, fn):
    if os.path.exists(path):
        return torch.load(path)
    out = fn()
    torch.save(out, path)
    return out


def knn_distribution(dev_vecs, train_vecs, train_labels, k, tau, chunk=1024):
    out = torch.zeros(len(dev_vecs), 3)
    for s in range(0, len(dev_vecs), chunk):
        sim = dev_vecs[s:s + chunk] @ train_vecs.T
        top, at = sim.topk(k, dim=-1)
        w = torch.softmax(top / tau, -1)
        out[s:s + chunk].scatter_add_(1, train_labels[at], w)
    return out


def accuracy(split, rows, p):
    if split in BINARY:
        return tt.binary_accuracy_of(p, rows)
    return sum(int(q.argmax()) == r["sentiment"] for r, q in zip(rows, p)) / len(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="build/dataset")
    ap.add_argument("--model", default="models/default")
    ap.add_argument("--out", default="build/knn")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--k", type=int, nargs="+", default=[8, 32, 128])
    ap.add_argument("--tau", type=float, nargs="+", default=[0.02, 0.05, 0.1])
    ap.add_argument("--lam", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    net = tt.load_run(args.model)
    how = net.poolings.get("sentiment", "cls")
    train = [r for r in tt.read(os.path.join(args.data, "train.jsonl")) if r.get("sentiment") is not None]
    dev = {s: [r for r in tt.read(os.path.join(args.data, f"dev_{s}.jsonl")) if r.get("sentiment") is not None]
           for s in BINARY + THREE_WAY}
    print(f"{len(train)} labeled training rows; pooling {how}", file=sys.stderr)
    train_vecs, _ = cached(os.path.join(args.out, "train.pt"), lambda: encode(net, train, how))
    train_labels = torch.tensor([r["sentiment"] for r in train])
    dev_enc = {s: cached(os.path.join(args.out, f"dev_{s}.pt"), lambda s=s: encode(net, dev[s], how)) for s in dev}
    splits = BINARY + THREE_WAY
    print("| k | tau | lam | " + " | ".join(splits) + " | selection mean |")
    print("|---" * (len(splits) + 4) + "|")
    for k in args.k:
        for tau in args.tau:
            knn = {s: knn_distribution(dev_enc[s][0], train_vecs, train_labels, k, tau) for s in dev}
            for lam in args.lam:
                acc = {s: accuracy(s, dev[s], (1 - lam) * dev_enc[s][1] + lam * knn[s]) for s in dev}
                mean = sum(acc[s] for s in SELECTION) / len(SELECTION)
                print(f"| {k} | {tau} | {lam} | " + " | ".join(f"{acc[s]:.3f}" for s in splits) + f" | {mean:.4f} |",
                      flush=True)


if __name__ == "__main__":
    main()
