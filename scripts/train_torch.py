#!/usr/bin/env python3
"""Train the shipped xinsheng model with PyTorch on the corpus `xinsheng prepare` wrote.

Same architecture, tensor names, heads, losses and model directory format as `xinsheng train` (candle):
a BERT encoder (post-LN, GELU-erf, [CLS] -> tanh pooler) with linear heads `heads.<task>.*`;
cross-entropy for sentiment/emotion over the rows labeled for each task, binary cross-entropy (summed over
the five labels) for the multi-label categories head, which reads the element-wise maximum of the final
token states (`--categories-pooling max`, config `"pooling": "max"`) instead of the [CLS] vector: a
from-scratch [CLS] vector carries sentiment but learned next to nothing about which category a complaint
is about (categories BCE no better than the label prior; README, model card). It exists because candle
training on this CPU is much slower (see README, "Training speed"); `xinsheng train` stays the supported way
to train and fine-tune.

    cargo run --release -- prepare --out build/dataset --max-length 160
    python3 scripts/train_torch.py --data build/dataset --out models/default --epochs 3

Writes OUT/config.json (HF BertConfig + `xinsheng` block), OUT/tokenizer.json, OUT/model.safetensors (f16),
OUT/train_log.jsonl; checkpoints to OUT/checkpoint.pt every --checkpoint-every steps (`--resume` continues).
Category thresholds are chosen on the hand-labeled dev splits dev_handcat.jsonl + dev_cs_written.jsonl (else
dev_categories.jsonl; best F1 on a 0.05 grid, ties nearest 0.5, the same rule as `xinsheng train`).

Distillation: `--teacher RUN...` adds the cross-entropy against the mean probabilities of finished runs (every
head on every training row; `--distill-weight` mixes it with the labels), computed once and cached per text
(`--soft-targets FILE`, `--targets-only` to only compute them; rows added later are scored alone);
`--trust-labels SOURCE...` keeps a hand-labeled source's own labels instead of the teachers' reading of it.
`--repeat SOURCE=N` shows each row of a source N times per epoch (the Taobao chat turns: `taobao=3`).
`--noise-punct` / `--noise-char` add ASR-style and typo noise to the training texts. `--average RUN...` exports
the mean of finished runs' weights.
"""
import argparse
import json
import math
import os
import random
import shutil
import sys
import time
import unicodedata

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

SENTIMENT = ["negative", "neutral", "positive"]
EMOTION = ["none", "like", "happiness", "sadness", "anger", "disgust", "fear", "surprise"]
CATEGORIES = ["service_attitude", "process", "product_quality", "price", "other"]


class Layer(nn.Module):
    def __init__(self, h, ffn, heads, p):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attn_out = nn.Linear(h, h)
        self.attn_norm = nn.LayerNorm(h, eps=1e-12)
        self.ffn_in, self.ffn_out = nn.Linear(h, ffn), nn.Linear(ffn, h)
        self.ffn_norm = nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(p)

    def forward(self, x, bias):
        b, t, h = x.shape
        d = h // self.heads
        split = lambda y: y.view(b, t, self.heads, d).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + bias
        probs = self.drop(scores.softmax(-1))
        ctx = (probs @ v).transpose(1, 2).reshape(b, t, h)
        x = self.attn_norm(x + self.drop(self.attn_out(ctx)))
        return self.ffn_norm(x + self.drop(self.ffn_out(F.gelu(self.ffn_in(x)))))


class Net(nn.Module):
    def __init__(self, vocab, h, layers, heads, ffn, max_pos, p, head_sizes, poolings=None):
        super().__init__()
        self.poolings = dict(poolings or {})
        self.word = nn.Embedding(vocab, h)
        self.pos = nn.Embedding(max_pos, h)
        self.tok = nn.Embedding(2, h)
        self.emb_norm = nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(p)
        self.layers = nn.ModuleList([Layer(h, ffn, heads, p) for _ in range(layers)])
        self.pooler = nn.Linear(h, h)
        self.heads = nn.ModuleDict({k: nn.Linear(h, n) for k, n in head_sizes.items()})
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
                if isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)

    def encode(self, ids, mask):
        """The encoder's token states (also the input of the MLM head in scripts/pretrain_mlm.py)."""
        t = ids.shape[1]
        x = self.word(ids) + self.pos.weight[:t] + self.tok.weight[0]
        x = self.drop(self.emb_norm(x))
        bias = ((mask - 1.0) * 1e4)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        return x

    def pool(self, x, mask, how):
        if how == "max":
            return x.masked_fill(mask[:, :, None] == 0, -1e4).max(1).values
        if how == "mean":
            return (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True)
        return torch.tanh(self.pooler(x[:, 0]))

    def forward(self, ids, mask):
        x = self.encode(ids, mask)
        pooled = {}
        out = {}
        for k, head in self.heads.items():
            how = self.poolings.get(k, "cls")
            if how not in pooled:
                pooled[how] = self.pool(x, mask, how)
            out[k] = head(pooled[how])
        return out

    def hf_state(self):
        """Tensors under the Hugging Face BertModel names the candle loader reads (f16)."""
        return {k: v.detach().to(torch.float16).contiguous() for k, v in self.hf_params().items()}

    def hf_state_names(self):
        """Module parameter name -> Hugging Face name (to load a model directory back into this module)."""
        by_id = {id(p): n for n, p in self.named_parameters()}
        return {by_id[id(p)]: k for k, p in self.hf_params().items()}

    def hf_params(self):
        out = {
            "bert.embeddings.word_embeddings.weight": self.word.weight,
            "bert.embeddings.position_embeddings.weight": self.pos.weight,
            "bert.embeddings.token_type_embeddings.weight": self.tok.weight,
            "bert.embeddings.LayerNorm.weight": self.emb_norm.weight,
            "bert.embeddings.LayerNorm.bias": self.emb_norm.bias,
            "bert.pooler.dense.weight": self.pooler.weight,
            "bert.pooler.dense.bias": self.pooler.bias,
        }
        for i, l in enumerate(self.layers):
            p = f"bert.encoder.layer.{i}."
            for name, mod in [
                ("attention.self.query", l.q), ("attention.self.key", l.k), ("attention.self.value", l.v),
                ("attention.output.dense", l.attn_out), ("attention.output.LayerNorm", l.attn_norm),
                ("intermediate.dense", l.ffn_in), ("output.dense", l.ffn_out), ("output.LayerNorm", l.ffn_norm),
            ]:
                out[p + name + ".weight"] = mod.weight
                out[p + name + ".bias"] = mod.bias
        for k, head in self.heads.items():
            out[f"heads.{k}.weight"] = head.weight
            out[f"heads.{k}.bias"] = head.bias
        return out


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def batches(rows, order, bs, rng):
    """One epoch's batches over `order` (row indices; a repeated source appears several times), shuffled,
    each batch of rows of similar length."""
    order = list(order)
    rng.shuffle(order)
    out = []
    for w in range(0, len(order), bs * 50):
        win = sorted(order[w:w + bs * 50], key=lambda i: len(rows[i]["ids"]))
        out += [win[i:i + bs] for i in range(0, len(win), bs)]
    rng.shuffle(out)
    return out


class Noise:
    """Training-time noise in the way customers write: with probability `punct` a row loses all its
    punctuation (ASR transcripts have none); each Chinese character is replaced with probability `char` by
    one drawn from the training texts' character frequencies (typos). The labels, and the teacher's
    probabilities when distilling, stay those of the clean text."""

    def __init__(self, vocab, rows, punct, char, seed):
        self.punct_p, self.char_p, self.rng = punct, char, random.Random(seed)
        self.punct = {i for tok, i in vocab.items() if len(tok) == 1 and unicodedata.category(tok).startswith("P")}
        self.cjk = {i for tok, i in vocab.items() if len(tok) == 1 and "\u4e00" <= tok <= "\u9fff"}
        # every occurrence of a Chinese character in the training texts: a uniform pick is a frequency-weighted one
        self.pool = [x for r in rows for x in r["ids"] if x in self.cjk] if char > 0 else []

    def __call__(self, ids):
        if self.punct_p and self.rng.random() < self.punct_p:
            kept = [x for x in ids[1:-1] if x not in self.punct]
            if kept:
                ids = [ids[0]] + kept + [ids[-1]]
        if self.char_p:
            ids = [self.rng.choice(self.pool) if x in self.cjk and self.rng.random() < self.char_p else x
                   for x in ids]
        return ids


def tensors(rows, idx, noise=None):
    t = max(len(rows[i]["ids"]) for i in idx)
    ids = torch.zeros(len(idx), t, dtype=torch.long)
    mask = torch.zeros(len(idx), t)
    for r, i in enumerate(idx):
        x = noise(rows[i]["ids"]) if noise else rows[i]["ids"]
        ids[r, :len(x)] = torch.tensor(x)
        mask[r, :len(x)] = 1
    return ids, mask


def loss_of(logits, rows, idx, weights, class_weights=None):
    total = 0.0
    for task in ("sentiment", "emotion"):
        sel = [r for r, i in enumerate(idx) if rows[i].get(task) is not None]
        if sel:
            gold = torch.tensor([rows[idx[r]][task] for r in sel])
            cw = (class_weights or {}).get(task)
            total = total + weights[task] * F.cross_entropy(logits[task][sel].float(), gold, weight=cw)
    sel = [r for r, i in enumerate(idx) if rows[i].get("categories") is not None]
    if sel and "categories" in logits:
        gold = torch.tensor([rows[idx[r]]["categories"] for r in sel], dtype=torch.float)
        total = total + weights["categories"] * F.binary_cross_entropy_with_logits(
            logits["categories"][sel].float(), gold, reduction="none").sum(1).mean()
    return total


@torch.no_grad()
def predict(net, rows, bs=64):
    net.eval()
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]["ids"]))
    out = [None] * len(rows)
    for s in range(0, len(order), bs):
        idx = order[s:s + bs]
        ids, mask = tensors(rows, idx)
        logits = net(ids, mask)
        for r, i in enumerate(idx):
            out[i] = {k: v[r].float() for k, v in logits.items()}
    net.train()
    return out


def averaged_weights(run_dirs):
    """The mean of the final weights of finished runs (their EMA copy when they kept one): a "model soup",
    one model's cost at inference. Runs must share shape and starting point, or the mean is meaningless."""
    total = None
    for d in run_dirs:
        state = torch.load(os.path.join(d, "checkpoint.pt"), weights_only=False)
        if "ema" in state:
            weights = {k[len("module."):]: v for k, v in state["ema"].items() if k.startswith("module.")}
        else:
            weights = state["net"]
        if total is None:
            total = {k: v.double().clone() for k, v in weights.items()}
        elif weights.keys() != total.keys():
            raise SystemExit(f"{d}: its weights do not have the names of {run_dirs[0]}")
        else:
            for k, v in weights.items():
                total[k] += v.double()
        print(f"averaging {d} (step {state['step']})", file=sys.stderr)
    return {k: (v / len(run_dirs)).float() for k, v in total.items()}


CORPUS_TOKENIZER = "../shared/models/chinese-bert-tokenizer-21128"
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"


def token_vocab(directory):
    """token -> id of the tokenizer.json in a directory."""
    return json.load(open(os.path.join(directory, "tokenizer.json"), encoding="utf-8"))["model"]["vocab"]


def model_dir_weights(net, model_dir, corpus_tokenizer=CORPUS_TOKENIZER):
    """The weights of a model directory (model.safetensors under the Hugging Face names, as exported here),
    as a state dict of `net` in f32. Exits naming the directory when a tensor is missing or misshapen.

    A model whose vocabulary was pruned (scripts/prune_vocab.py) has fewer word-embedding rows than a network
    over the corpus's token ids: its rows are laid out in the corpus tokenizer's ids by token, and a token the
    model lacks takes the model's [UNK] row, which is what inference with the pruned model does."""
    from safetensors.torch import load_file
    tensors = load_file(os.path.join(model_dir, "model.safetensors"))
    want = net.state_dict()
    state = {}
    for name, hf in net.hf_state_names().items():
        if hf not in tensors:
            raise SystemExit(f"{model_dir}: model.safetensors has no tensor {hf}")
        t = tensors[hf]
        if hf == WORD_EMBEDDINGS and t.shape[0] != want[name].shape[0]:
            model_vocab, corpus_vocab = token_vocab(model_dir), token_vocab(corpus_tokenizer)
            if len(corpus_vocab) == want[name].shape[0] and len(model_vocab) == t.shape[0]:
                unk = model_vocab["[UNK]"]
                order = sorted(corpus_vocab, key=corpus_vocab.get)
                t = t[torch.tensor([model_vocab.get(token, unk) for token in order])]
        if tuple(t.shape) != tuple(want[name].shape):
            raise SystemExit(f"{model_dir}: {hf} has shape {tuple(t.shape)}, this network "
                             f"{tuple(want[name].shape)}")
        state[name] = t.float()
    return state


def load_encoder(net, path):
    """Loads the encoder weights a pretraining run saved (scripts/pretrain_mlm.py: OUT/encoder.pt) into `net`; its
    heads and pooler keep their own initialization. Exits naming the file when the shapes differ."""
    enc = torch.load(path, weights_only=False)["encoder"]
    missing, unexpected = net.load_state_dict(enc, strict=False)
    if unexpected or any(not k.startswith(("heads.", "pooler.")) for k in missing):
        raise SystemExit(f"{path}: does not fit this shape (missing {missing}, unexpected {unexpected})")
    print(f"encoder initialized from {path}", file=sys.stderr)


def load_model_dir(model_dir, dropout=0.0, corpus_tokenizer=None):
    """A model directory (config.json + model.safetensors, the format this script exports) as a network over
    its own tokenizer's ids, or, given `corpus_tokenizer`, over that tokenizer's ids (the ids `xinsheng prepare`
    wrote; they differ when the model's vocabulary was pruned)."""
    cfg = json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8"))
    heads = {h["name"]: len(h["labels"]) for h in cfg["xinsheng"]["heads"]}
    vocab = len(token_vocab(corpus_tokenizer)) if corpus_tokenizer else cfg["vocab_size"]
    net = Net(vocab, cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"],
              cfg["intermediate_size"], cfg["max_position_embeddings"], dropout, heads,
              {h["name"]: h.get("pooling", "cls") for h in cfg["xinsheng"]["heads"]})
    net.load_state_dict(model_dir_weights(net, model_dir, corpus_tokenizer or CORPUS_TOKENIZER), strict=False)
    return net, cfg


def load_run(run_dir):
    """A finished run's network (its EMA weights when it kept them, as the trainer exports), shaped by the
    options in its config.json; a model directory without a checkpoint (e.g. models/default) is read from its
    model.safetensors (f16)."""
    if not os.path.exists(os.path.join(run_dir, "checkpoint.pt")):
        return load_model_dir(run_dir, corpus_tokenizer=CORPUS_TOKENIZER)[0]
    opts = json.load(open(os.path.join(run_dir, "config.json")))["xinsheng"]["training"]["options"]
    vocab = len(token_vocab(run_dir))
    sizes = {"sentiment": 3, "emotion": len(EMOTION), "categories": len(CATEGORIES)}
    net = Net(vocab, opts["hidden"], opts["layers"], opts["heads"], opts["ffn"], opts["max_length"],
              opts["dropout"], sizes, {"categories": opts.get("categories_pooling", "cls")})
    net.load_state_dict(averaged_weights([run_dir]))
    return net


def probabilities(net, rows, bf16=False):
    """Each head's probabilities on rows, as [len(rows), classes] tensors: softmax for the single-label heads,
    sigmoid for the multi-label categories head."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        preds = predict(net, rows)
    out = {}
    for k in preds[0] if preds else []:
        z = torch.stack([p[k] for p in preds]).float()
        out[k] = torch.sigmoid(z) if k == "categories" else torch.softmax(z, -1)
    return out


def mean_probabilities(run_dirs, rows, bf16=False):
    """The mean of several finished runs' probabilities (a logit-level ensemble, the teacher of a
    distillation); also returns each run's own."""
    per_run = []
    for d in run_dirs:
        started = time.time()
        per_run.append(probabilities(load_run(d), rows, bf16))
        print(f"scored {d} on {len(rows)} rows in {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    mean = {k: sum(run[k] for run in per_run) / len(per_run) for k in per_run[0]}
    return mean, per_run


def soft_targets(path, teachers, train, bf16):
    """Teacher probabilities over the training rows, cached in `path` per text: rows whose text the cache
    holds for the same teachers are reused, only the others are scored (a data set that gains rows costs
    only the new rows)."""
    cached = torch.load(path, weights_only=False) if os.path.exists(path) else None
    known = {}
    if cached is not None and cached.get("teachers") == teachers and "texts" in cached:
        known = {t: i for i, t in enumerate(cached["texts"])}
    missing = [i for i, r in enumerate(train) if r["text"] not in known]
    if known and not missing:
        print(f"soft targets from {path}", file=sys.stderr)
    elif known:
        print(f"soft targets from {path}; scoring {len(missing)} new rows", file=sys.stderr)
    fresh, _ = mean_probabilities(teachers, [train[i] for i in missing], bf16) if missing else ({}, None)
    where = torch.tensor([known.get(r["text"], -1) for r in train], dtype=torch.long)
    hit = where >= 0
    probs = {}
    for k, head in (cached["probs"] if known else fresh).items():
        probs[k] = torch.empty(len(train), head.shape[1])
        if known:
            probs[k][hit] = cached["probs"][k][where[hit]]
        if missing:
            probs[k][~hit] = fresh[k]  # `missing` lists exactly the rows not hit, in row order
    if missing:
        torch.save({"teachers": teachers, "texts": [r["text"] for r in train], "probs": probs}, path + ".tmp")
        os.replace(path + ".tmp", path)
    return probs


def trust_labels(soft, train, sources):
    """Rows from `sources` learn their own labels instead of the teacher's reading of them, for the heads
    they are labeled for (the teacher still speaks for their other heads)."""
    changed = 0
    for i, r in enumerate(train):
        if r.get("source") not in sources:
            continue
        changed += 1
        for task in ("sentiment", "emotion"):
            if r.get(task) is not None and task in soft:
                soft[task][i] = F.one_hot(torch.tensor(r[task]), soft[task].shape[1]).float()
        if r.get("categories") is not None and "categories" in soft:
            soft["categories"][i] = torch.tensor(r["categories"], dtype=torch.float)
    print(f"teacher targets replaced by labels on {changed} rows ({', '.join(sorted(sources))})", file=sys.stderr)


def distill_loss(logits, soft, idx, weights):
    """Cross-entropy against the teacher's probabilities, every head on every row (a row labeled for one task
    learns the others from the teacher)."""
    total = 0.0
    for task in ("sentiment", "emotion"):
        if task in logits:
            total = total - weights[task] * (soft[task][idx] * F.log_softmax(logits[task].float(), -1)).sum(-1).mean()
    if "categories" in logits:
        total = total + weights["categories"] * F.binary_cross_entropy_with_logits(
            logits["categories"].float(), soft["categories"][idx], reduction="none").sum(1).mean()
    return total


def rdrop_loss(a, b):
    """R-Drop: the symmetric KL divergence between two dropout passes over the same rows, per head (sentiment
    and emotion as softmax distributions, each category as a Bernoulli), summed over the categories."""
    total = 0.0
    for task in ("sentiment", "emotion"):
        if task in a:
            la, lb = F.log_softmax(a[task].float(), -1), F.log_softmax(b[task].float(), -1)
            total = total + 0.5 * ((la.exp() - lb.exp()) * (la - lb)).sum(-1).mean()
    if "categories" in a:
        za, zb = a["categories"].float(), b["categories"].float()
        # For Bernoullis, KL(p||q) + KL(q||p) = (p - q) * (logit p - logit q).
        total = total + 0.5 * ((torch.sigmoid(za) - torch.sigmoid(zb)) * (za - zb)).sum(-1).mean()
    return total


def best_threshold(gold, probs):
    best = (-1e9, 0.5)
    for step in range(1, 20):
        t = step * 0.05
        tp = sum(1 for g, p in zip(gold, probs) if g == 1 and p >= t)
        fp = sum(1 for g, p in zip(gold, probs) if g == 0 and p >= t)
        fn = sum(1 for g, p in zip(gold, probs) if g == 1 and p < t)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        score = f1 - 1e-6 * abs(t - 0.5)
        if score > best[0]:
            best = (score, t)
    return round(best[1], 2)


def binary_accuracy_of(sentiment, rows):
    """Share of rows (gold 0 = negative, 2 = positive) whose larger score of negative vs positive is the gold
    one; `sentiment`: each row's three logits or probabilities (the same order either way)."""
    ok = sum(1 for r, p in zip(rows, sentiment) if (0 if p[0] > p[2] else 2) == r["sentiment"])
    return ok / max(1, len(rows))


def binary_accuracy(net, rows):
    return binary_accuracy_of([p["sentiment"] for p in predict(net, rows)], rows)


# glibc returns PyTorch's large activation buffers to the OS after every step and faults them back in on
# the next; on this machine that tripled the step time (measured: 5.5 s -> 1.7 s per f32 step). Keep them.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "2000000000", "MALLOC_TRIM_THRESHOLD_": "20000000000",
              "MALLOC_TOP_PAD_": "1000000000"}


def main():
    if any(k not in os.environ for k in MALLOC_ENV):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **MALLOC_ENV})
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="build/dataset")
    ap.add_argument("--out", default="models/default")
    ap.add_argument("--tokenizer", default=CORPUS_TOKENIZER)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", "--attention-heads", dest="heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--max-length", type=int, default=160)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--clip-norm", type=float, default=1.0)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (AMX) for the forward pass")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0 = --epochs)")
    ap.add_argument("--checkpoint-every", type=int, default=500)
    ap.add_argument("--eval-every", type=int, default=0, help="print ChnSentiCorp dev accuracy every N steps")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--emotion-weight", type=float, default=1.0, help="weight of the emotion loss")
    ap.add_argument("--emotion-balance", type=float, default=0.0,
                    help="weigh emotion classes by (1/frequency)^B (0 = plain; 0.5 = inverse square root), so that "
                         "rare classes such as anger are not drowned by `none`")
    ap.add_argument("--categories-weight", type=float, default=1.0, help="weight of the categories loss")
    ap.add_argument("--categories-pooling", choices=["max", "mean", "cls"], default="max",
                    help="what the categories head reads: max or mean over the token states, or [CLS]")
    ap.add_argument("--init", default=None,
                    help="start the encoder from these weights (OUT/encoder.pt of scripts/pretrain_mlm.py)")
    ap.add_argument("--init-model", default=None, metavar="MODEL_DIR",
                    help="start every weight (encoder, pooler, heads) from a model directory of this shape, e.g. "
                         "models/default: a further fine-tuning stage of a finished model")
    ap.add_argument("--average", nargs="+", metavar="RUN_DIR", default=None,
                    help="do not train: average the final (EMA when kept) weights of these runs of this script "
                         "(same shape, same --init) and export that, thresholds chosen again")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="keep an exponential moving average of the weights with this decay (e.g. 0.999) "
                         "and export it instead of the last weights")
    ap.add_argument("--noise-punct", type=float, default=0.0, metavar="P",
                    help="training noise: drop all punctuation of a row with probability P (ASR-style text)")
    ap.add_argument("--noise-char", type=float, default=0.0, metavar="Q",
                    help="training noise: replace each Chinese character with probability Q (typos)")
    ap.add_argument("--rdrop", type=float, default=0.0, metavar="ALPHA",
                    help="R-Drop: run each batch twice (two dropout masks), learn both, and add ALPHA times the "
                         "symmetric KL divergence between the two passes' predictions (0 = off; doubles the cost)")
    ap.add_argument("--teacher", nargs="+", metavar="RUN_DIR", default=None,
                    help="distill: also learn the mean probabilities of these finished runs (every head, every "
                         "training row)")
    ap.add_argument("--distill-weight", type=float, default=0.5,
                    help="with --teacher: loss = (1 - w) * labels + w * teacher")
    ap.add_argument("--soft-targets", default=None, metavar="FILE",
                    help="with --teacher: cache of the teacher probabilities (default OUT/soft_targets.pt)")
    ap.add_argument("--targets-only", action="store_true",
                    help="with --teacher: compute and cache the teacher probabilities, then exit")
    ap.add_argument("--trust-labels", nargs="+", metavar="SOURCE", default=[],
                    help="with --teacher: rows of these sources (e.g. taobao) learn their labels, not the "
                         "teacher's probabilities, on the heads they are labeled for")
    ap.add_argument("--repeat", nargs="+", metavar="SOURCE=N", default=[],
                    help="oversample: each row of SOURCE appears N times per epoch (e.g. taobao=3)")
    args = ap.parse_args()
    if args.init and args.init_model:
        ap.error("--init and --init-model exclude each other")
    if (args.targets_only or args.soft_targets or args.trust_labels) and not args.teacher:
        ap.error("--targets-only, --soft-targets and --trust-labels need --teacher RUN...")
    repeat = {}
    for item in args.repeat:
        source, _, n = item.partition("=")
        if not source or not n.isdigit() or int(n) < 1:
            ap.error(f"--repeat {item!r}: expected SOURCE=N with N >= 1")
        repeat[source] = int(n)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    train = read(os.path.join(args.data, "train.jsonl"))
    dev = {f[4:-6]: read(os.path.join(args.data, f)) for f in sorted(os.listdir(args.data))
           if f.startswith("dev_") and f.endswith(".jsonl")}
    for split in [train] + list(dev.values()):
        for r in split:
            if len(r["ids"]) > args.max_length:
                raise SystemExit(f"{args.data}: a row has {len(r['ids'])} tokens > --max-length "
                                 f"{args.max_length}; run `xinsheng prepare --max-length {args.max_length}`")
    vocab_ids = token_vocab(args.tokenizer)
    vocab = len(vocab_ids)
    noise = None
    if args.noise_punct > 0 or args.noise_char > 0:
        noise = Noise(vocab_ids, train, args.noise_punct, args.noise_char, args.seed)
    head_sizes = {"sentiment": 3, "emotion": len(EMOTION), "categories": len(CATEGORIES)}
    poolings = {"categories": args.categories_pooling}
    net = Net(vocab, args.hidden, args.layers, args.heads, args.ffn, args.max_length, args.dropout, head_sizes,
              poolings)
    if args.init:
        load_encoder(net, args.init)
    if args.init_model:
        net.load_state_dict(model_dir_weights(net, args.init_model, args.tokenizer), strict=False)
        print(f"every weight initialized from {args.init_model}", file=sys.stderr)
    decay = [p for n, p in net.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in net.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    order = [i for i, r in enumerate(train) for _ in range(repeat.get(r.get("source"), 1))]
    for source in repeat:
        n = sum(1 for r in train if r.get("source") == source)
        if n == 0:
            raise SystemExit(f"--repeat {source}: no training rows from that source")
        print(f"{source}: {n} rows, each {repeat[source]} times per epoch", file=sys.stderr)
    per_epoch = math.ceil(len(order) / args.batch_size)
    total = args.max_steps or math.ceil(args.epochs * per_epoch)
    if args.average:
        net.load_state_dict(averaged_weights(args.average))
        total = 0
    warmup = round(args.warmup * total)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup else max(0.0, 1 - (s - warmup) / max(1, total - warmup)))
    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, "checkpoint.pt")
    step = 0
    if args.resume and os.path.exists(ckpt):
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step = state["step"]
        print(f"resumed at step {step}", file=sys.stderr)
    weights = {"sentiment": 1.0, "emotion": args.emotion_weight, "categories": args.categories_weight}
    class_weights = {}
    if args.emotion_balance > 0:
        counts = torch.zeros(len(EMOTION))
        for r in train:
            if r.get("emotion") is not None:
                counts[r["emotion"]] += 1
        w = (counts.sum() / counts.clamp(min=1)) ** args.emotion_balance
        class_weights["emotion"] = w / (w * counts).sum() * counts.sum()
        print("emotion class weights " + " ".join(f"{e}={x:.2f}" for e, x in zip(EMOTION, class_weights["emotion"])),
              file=sys.stderr)
    soft = None
    if args.teacher:
        soft = soft_targets(args.soft_targets or os.path.join(args.out, "soft_targets.pt"), args.teacher, train,
                            args.bf16)
        if args.targets_only:
            return
        if args.trust_labels:
            trust_labels(soft, train, set(args.trust_labels))
    ema = None
    if args.ema > 0:
        ema = torch.optim.swa_utils.AveragedModel(
            net, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(args.ema))
        if args.resume and os.path.exists(ckpt) and "ema" in state:
            ema.load_state_dict(state["ema"])
    log = open(os.path.join(args.out, "train_log.jsonl"), "a" if step > 0 else "w")
    net.train()
    started, seen, tokens = time.time(), 0, 0
    epoch_batches, epoch_of = None, -1
    while step < total:
        epoch = step // per_epoch
        if epoch != epoch_of:
            epoch_batches, epoch_of = batches(train, order, args.batch_size, random.Random(args.seed * 1000003 + epoch)), epoch
        idx = epoch_batches[step % per_epoch]
        ids, mask = tensors(train, idx, noise)
        passes = 2 if args.rdrop > 0 else 1
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            both = net(ids.repeat(passes, 1), mask.repeat(passes, 1))
        halves = [{k: v[p * len(idx):(p + 1) * len(idx)] for k, v in both.items()} for p in range(passes)]
        loss = 0.0
        for logits in halves:
            part = loss_of(logits, train, idx, weights, class_weights)
            if soft is not None:
                part = (1 - args.distill_weight) * part + args.distill_weight * distill_loss(logits, soft, idx, weights)
            loss = loss + part / passes
        extra = {}
        if passes == 2:
            kl = rdrop_loss(*halves)
            loss = loss + args.rdrop * kl
            extra["rdrop_kl"] = kl.item()
        opt.zero_grad()
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(net.parameters(), args.clip_norm)
        opt.step()
        sched.step()
        if ema is not None:
            ema.update_parameters(net)
        step += 1
        seen += len(idx)
        tokens += int(mask.sum())
        el = time.time() - started
        log.write(json.dumps({"step": step, "loss": loss.item(), "lr": sched.get_last_lr()[0],
                              "grad_norm": float(gn), "examples_per_second": seen / el,
                              "tokens_per_second": tokens / el, **extra}) + "\n")
        if step % 50 == 0:
            log.flush()
            print(f"step {step}/{total} epoch {epoch} loss {loss.item():.4f} {seen / el:.0f} ex/s "
                  f"{tokens / el:.0f} tok/s", file=sys.stderr, flush=True)
        if args.eval_every and step % args.eval_every == 0 and "chnsenticorp" in dev:
            msg = f"step {step} chnsenticorp dev binary accuracy {binary_accuracy(net, dev['chnsenticorp']):.4f}"
            if ema is not None:
                msg += f" (ema {binary_accuracy(ema.module, dev['chnsenticorp']):.4f})"
            print(msg, file=sys.stderr, flush=True)
        if step % args.checkpoint_every == 0 or step == total:
            state = {"net": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "step": step}
            if ema is not None:
                state["ema"] = ema.state_dict()
            torch.save(state, ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)
    log.close()
    if ema is not None:
        net = ema.module

    thresholds = [0.5] * len(CATEGORIES)
    # Thresholds are chosen on the hand-labeled category dev splits when there are any — the reviews
    # (`handcat`) and the customer-service utterances (`cs_written`): what the service sees, complaints
    # across domains — else on the aspect-set split.
    cat_devs = [s for s in ("handcat", "cs_written") if s in dev] or [s for s in ("categories",) if s in dev]
    if cat_devs:
        rows = [r for s in cat_devs for r in dev[s] if r.get("categories") is not None]
        preds = predict(net, rows)
        thresholds = [best_threshold([r["categories"][j] for r in rows],
                                     [float(torch.sigmoid(p["categories"][j])) for p in preds])
                      for j in range(len(CATEGORIES))]
    config = {
        "model_type": "bert", "vocab_size": vocab, "hidden_size": args.hidden,
        "num_hidden_layers": args.layers, "num_attention_heads": args.heads, "intermediate_size": args.ffn,
        "hidden_act": "gelu", "hidden_dropout_prob": args.dropout, "attention_probs_dropout_prob": args.dropout,
        "max_position_embeddings": args.max_length, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "xinsheng": {
            "format_version": 1, "max_length": args.max_length,
            "heads": [
                {"name": "sentiment", "labels": SENTIMENT, "multi_label": False},
                {"name": "emotion", "labels": EMOTION, "multi_label": False},
                {"name": "categories", "labels": CATEGORIES, "multi_label": True, "thresholds": thresholds,
                 **({"pooling": args.categories_pooling} if args.categories_pooling != "cls" else {})},
            ],
            "training": {"trainer": "scripts/train_torch.py", "options": vars(args), "steps": total,
                         "examples_per_second": seen / max(1e-9, time.time() - started)},
        },
    }
    save_file(net.hf_state(), os.path.join(args.out, "model.safetensors"))
    with open(os.path.join(args.out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
        f.write("\n")
    shutil.copy(os.path.join(args.tokenizer, "tokenizer.json"), os.path.join(args.out, "tokenizer.json"))
    if "chnsenticorp" in dev:
        print(f"chnsenticorp dev binary accuracy {binary_accuracy(net, dev['chnsenticorp']):.4f}", file=sys.stderr)
    print(json.dumps({"out": args.out, "steps": total, "thresholds": thresholds}))


if __name__ == "__main__":
    main()
