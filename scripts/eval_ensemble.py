#!/usr/bin/env python3
"""Would an ensemble help? Dev figures of each finished scripts/train_torch.py run and of the mean of their
probabilities (a logit-level ensemble, N times the inference cost — the teacher a distillation would copy).

    python3 scripts/eval_ensemble.py --data build/dataset build/train_default build/ft_a build/ft_b

Each RUN_DIR needs the checkpoint.pt and config.json the trainer wrote (its EMA weights are used when it kept
them, as the trainer exports). Reads only the dev_*.jsonl splits `xinsheng prepare` held out; prints a markdown
table: binary sentiment accuracy (negative vs positive probability) on the review sets, three-way accuracy on
the customer-service and robustness sets, emotion accuracy and anger recall (arg-max). PyTorch reference
numbers: they match `xinsheng --engine f32 eval` to the third decimal, not the int8 engine exactly.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_torch as tt  # noqa: E402

BINARY = ["chnsenticorp", "nlpcc2014", "reviews"]
THREE_WAY = ["sentiment3", "robustness", "neutral"]


def figures(rows_by_split, probs_by_split):
    out = {}
    for split in BINARY:
        rows, probs = rows_by_split[split], probs_by_split[split]
        out[split] = tt.binary_accuracy_of(probs["sentiment"], rows)
    for split in THREE_WAY:
        rows, probs = rows_by_split[split], probs_by_split[split]
        ok = sum(1 for r, p in zip(rows, probs["sentiment"]) if int(p.argmax()) == r["sentiment"])
        out[split] = ok / len(rows)
    rows, probs = rows_by_split["emotion"], probs_by_split["emotion"]
    labeled = [(r["emotion"], int(p.argmax())) for r, p in zip(rows, probs["emotion"]) if r.get("emotion") is not None]
    anger = tt.EMOTION.index("anger")
    out["emotion acc"] = sum(g == a for g, a in labeled) / len(labeled)
    out["anger recall"] = sum(g == a == anger for g, a in labeled) / max(1, sum(g == anger for g, _ in labeled))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="build/dataset")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("runs", nargs="+", metavar="RUN_DIR")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows_by_split = {s: [r for r in tt.read(os.path.join(args.data, f"dev_{s}.jsonl")) if r.get("sentiment") is not None
                         or s == "emotion"]
                     for s in BINARY + THREE_WAY + ["emotion"]}
    # One pass per run over all splits together, then cut back into splits.
    everything = [r for rows in rows_by_split.values() for r in rows]
    mean_all, runs_all = tt.mean_probabilities(args.runs, everything)

    def by_split(probs):
        out, at = {}, 0
        for s, rows in rows_by_split.items():
            out[s] = {k: v[at:at + len(rows)] for k, v in probs.items()}
            at += len(rows)
        return out
    mean, per_run = by_split(mean_all), [by_split(run) for run in runs_all]
    columns = BINARY + THREE_WAY + ["emotion acc", "anger recall"]
    print("| model | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, probs in [(d, run) for d, run in zip(args.runs, per_run)] + [(f"mean of {len(per_run)}", mean)]:
        f = figures(rows_by_split, probs)
        print(f"| {name} | " + " | ".join(f"{f[c]:.3f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
