#!/usr/bin/env python3
"""Soft targets for a distillation run: a model directory read the way xinsheng reads it, its network blended
with its n-gram models (docs/model_history.md, "A second refinement epoch": an experiment, not part of the shipped recipe).

    python3 scripts/blend_targets.py --data build/dataset --model models/default --out build/v7/soft_blend.pt
    python3 scripts/train_torch.py ... --teacher models/default ngrams-oof --soft-targets build/v7/soft_blend.pt

- Network: the model's probabilities on every training row (train_torch.soft_targets with the model as the
  only teacher; its cache, --network, is what `--teacher MODEL --soft-targets FILE` reads as the plain network
  teacher).
- Sentiment and emotion n-grams: out of fold. The rows are split five ways by a hash of the text; each fifth is
  scored by one-vs-rest logistic regressions over binary character 1-3-grams fitted to the other four fifths
  (scikit-learn, C 1, the shipped files' --min-count), so no row is scored by a model that saw it. The shipped
  files were fitted to every row, so their scores on training rows would mostly repeat the labels.
- Category n-grams: the model's own `category_ngrams.json`; the rows it was fitted to are hand-labeled rows,
  which learn their own labels in the refinement (`--trust-labels`).
- Blend: as the model directory's files say (sentiment and emotion p^(1-w) q^w with q the normalized
  one-vs-rest scores; categories per-label log-odds mix).

The cache records its teachers as [MODEL, "ngrams-oof"]; train_torch.py uses it whole when its `--teacher`
list is the same and the corpus has not changed (it cannot score the "ngrams-oof" teacher itself).
Needs scikit-learn (not in requirements-train.txt: `pip install scikit-learn`).
"""
import argparse
import json
import math
import os
import sys
import time
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_torch as T  # noqa: E402


def ngrams(text, low, high):
    """The distinct character n-grams of `text`, whitespace skipped (as src/risk/learned.rs `ngrams`)."""
    chars = [c for c in text if not c.isspace()]
    seen, out = set(), []
    for n in range(max(low, 1), high + 1):
        for i in range(len(chars) - n + 1):
            g = "".join(chars[i:i + n])
            if g not in seen:
                seen.add(g)
                out.append(g)
    return out


def out_of_fold(texts, labels, classes, min_count, folds, started):
    """[rows, classes] one-vs-rest probabilities, each row scored by models fitted without its fold."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    labels = np.array(labels)
    scores = np.zeros((len(texts), classes))
    for f in range(folds.max() + 1):
        fit = (folds != f) & (labels >= 0)
        vec = CountVectorizer(analyzer=lambda t: ngrams(t, 1, 3), min_df=min_count, binary=True)
        a = vec.fit_transform([texts[i] for i in np.where(fit)[0]])
        d = vec.transform([texts[i] for i in np.where(folds == f)[0]])
        for c in range(classes):
            lr = LogisticRegression(C=1.0, solver="liblinear", max_iter=1000).fit(a, (labels[fit] == c).astype(int))
            scores[folds == f, c] = lr.predict_proba(d)[:, 1]
        print(f"fold {f}: {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    return scores


def geometric(p, q, w):
    q = q / q.sum(1, keepdims=True)
    lp = (1 - w) * np.log(np.clip(p, 1e-9, 1)) + w * np.log(np.clip(q, 1e-9, 1))
    e = np.exp(lp - lp.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="a directory written by `xinsheng prepare`")
    ap.add_argument("--model", required=True, help="model directory with its three n-gram files")
    ap.add_argument("--out", required=True, help="soft-target cache to write")
    ap.add_argument("--network", default=None, help="cache of the network's own probabilities (default OUT.network.pt)")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    started = time.time()
    rows = T.read(os.path.join(args.data, "train.jsonl"))
    texts = [r["text"] for r in rows]
    # The network alone as a teacher, through train_torch's own per-text cache.
    net = T.soft_targets(args.network or args.out + ".network.pt", [args.model], rows, bf16=True)
    netp = {k: v.numpy() for k, v in net.items()}
    folds = np.array([zlib.crc32(t.encode("utf-8")) % args.folds for t in texts])
    probs = {}
    for head, classes in (("sentiment", len(T.SENTIMENT)), ("emotion", len(T.EMOTION))):
        shipped = json.load(open(os.path.join(args.model, f"{head}_ngrams.json"), encoding="utf-8"))
        min_count = shipped["training"]["options"]["min_count"]
        labels = [r[head] if r.get(head) is not None else -1 for r in rows]
        q = out_of_fold(texts, labels, classes, min_count, folds, started)
        probs[head] = torch.tensor(geometric(netp[head], q, shipped["blend_weight"]), dtype=torch.float)
    cat = json.load(open(os.path.join(args.model, "category_ngrams.json"), encoding="utf-8"))
    pc = np.clip(netp["categories"], 1e-6, 1 - 1e-6)
    blended = np.zeros_like(pc)
    for i, text in enumerate(texts):
        grams = {}  # the labels share one n-gram range: computed once per text
        for j, label in enumerate(T.CATEGORIES):
            m, w = cat["labels"][label], cat["blend_weights"][label]
            span = (m["ngram_min"], m["ngram_max"])
            if span not in grams:
                grams[span] = ngrams(text, *span)
            z = m["bias"] + sum(m["weights"].get(g, 0.0) for g in grams[span])
            blended[i, j] = 1 / (1 + math.exp(-((1 - w) * math.log(pc[i, j] / (1 - pc[i, j])) + w * z)))
    probs["categories"] = torch.tensor(blended, dtype=torch.float)
    torch.save({"teachers": [args.model, "ngrams-oof"], "texts": texts, "probs": probs}, args.out)
    for head in ("sentiment", "emotion"):
        moved = (probs[head].argmax(1) != torch.tensor(netp[head]).argmax(1)).float().mean().item()
        print(f"{head}: the blend changes the network's arg-max on {moved:.1%} of the rows", file=sys.stderr)
    print(f"wrote {args.out} in {time.time() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
