#!/usr/bin/env python3
"""Masked-language-model pretraining of the xinsheng encoder, from random weights, on the training texts.

No pretrained Chinese weights can be had here, so the encoder first learns the language from the texts of
../shared/data (the `train.jsonl` that `xinsheng prepare` writes: every training row of every set, token ids
already normalized the way the service normalizes them; the dev slices are never seen). Then
`scripts/train_torch.py --init OUT/encoder.pt` fine-tunes the heads and the encoder together.

Same encoder as scripts/train_torch.py (imported from it), plus a BERT-style MLM head (dense + GELU +
LayerNorm, decoder tied to the word embeddings). Masking is dynamic (drawn anew every step): 15% of the
tokens, of which 80% become [MASK], 10% a random token and 10% stay; with --span the masked positions come
in runs of 1-3 characters (whole-word-like for Chinese, where most words are 2 characters).

    cargo run --release -- prepare --out build/dataset --max-length 160
    python3 scripts/pretrain_mlm.py --data build/dataset --out build/mlm --steps 4000 --bf16

Writes OUT/checkpoint.pt every --checkpoint-every steps (`--resume` continues) and OUT/encoder.pt (the
encoder weights only) at each checkpoint; logs to OUT/mlm_log.jsonl. Masked-token accuracy on a fixed
held-out sample of the dev texts is printed every --eval-every steps.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_torch import MALLOC_ENV, Net, batches, read, tensors  # noqa: E402

CLS, SEP, MASK, PAD = 101, 102, 103, 0
FIRST_REAL = 106  # ids below are [PAD]/[unused]/[UNK]/[CLS]/[SEP]/[MASK]


class MlmHead(nn.Module):
    def __init__(self, word: nn.Embedding, h):
        super().__init__()
        self.dense = nn.Linear(h, h)
        self.norm = nn.LayerNorm(h, eps=1e-12)
        self.word = word
        self.bias = nn.Parameter(torch.zeros(word.weight.shape[0]))

    def forward(self, x):
        return F.linear(self.norm(F.gelu(self.dense(x))), self.word.weight, self.bias)


def mask_tokens(ids, mask, vocab, rng, rate, span):
    """Dynamic masking: returns (inputs, labels) with labels -100 where nothing is predicted."""
    special = (ids == CLS) | (ids == SEP) | (mask == 0)
    if span:
        # Start positions at rate / mean-span-length, each covering 1-3 tokens.
        starts = (torch.rand(ids.shape, generator=rng) < rate / 2.0) & ~special
        lengths = torch.randint(1, 4, ids.shape, generator=rng)
        chosen = starts.clone()
        for k in (1, 2):
            shifted = torch.zeros_like(starts)
            shifted[:, k:] = starts[:, :-k] & (lengths[:, :-k] > k)
            chosen |= shifted
        chosen &= ~special
    else:
        chosen = (torch.rand(ids.shape, generator=rng) < rate) & ~special
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    roll = torch.rand(ids.shape, generator=rng)
    inputs = ids.clone()
    inputs[chosen & (roll < 0.8)] = MASK
    randoms = torch.randint(FIRST_REAL, vocab, ids.shape, generator=rng)
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[swap] = randoms[swap]
    return inputs, labels


@torch.no_grad()
def masked_accuracy(net, head, rows, vocab, bf16):
    net.eval()
    rng = torch.Generator().manual_seed(7)
    right = total = 0
    for s in range(0, len(rows), 64):
        idx = list(range(s, min(s + 64, len(rows))))
        ids, mask = tensors(rows, idx)
        inputs, labels = mask_tokens(ids, mask, vocab, rng, 0.15, False)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = head(net.encode(inputs, mask))
        sel = labels != -100
        right += int((logits.argmax(-1)[sel] == labels[sel]).sum())
        total += int(sel.sum())
    net.train()
    return right / max(1, total)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="build/dataset")
    ap.add_argument("--out", default="build/mlm")
    ap.add_argument("--tokenizer", default="../shared/models/chinese-bert-tokenizer-21128")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--max-length", type=int, default=160)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--stop-at", type=int, default=0,
                    help="stop after this many steps (checkpoint written) while the learning-rate schedule stays "
                         "the one of --steps; 0 = run all --steps")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=float, default=0.05)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--clip-norm", type=float, default=1.0)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--mask-rate", type=float, default=0.15)
    ap.add_argument("--span", action="store_true", help="mask runs of 1-3 tokens instead of single tokens")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--checkpoint-every", type=int, default=200)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rows = read(os.path.join(args.data, "train.jsonl"))
    dev_rows = []
    for f in sorted(os.listdir(args.data)):
        if f.startswith("dev_") and f.endswith(".jsonl"):
            dev_rows += read(os.path.join(args.data, f))
    dev_rows = random.Random(1).sample(dev_rows, min(1000, len(dev_rows)))
    too_long = sum(len(r["ids"]) > args.max_length for r in rows)
    if too_long:
        raise SystemExit(f"{too_long} rows exceed --max-length {args.max_length}; run prepare with that length")
    vocab = len(json.load(open(os.path.join(args.tokenizer, "tokenizer.json")))["model"]["vocab"])
    net = Net(vocab, args.hidden, args.layers, args.heads, args.ffn, args.max_length, args.dropout, {})
    head = MlmHead(net.word, args.hidden)
    params = list(net.named_parameters()) + [(f"mlm.{n}", p) for n, p in head.named_parameters() if n != "word.weight"]
    decay = [p for n, p in params if p.dim() >= 2]
    no_decay = [p for n, p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.98))
    warmup = max(1, round(args.warmup * args.steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup else max(0.0, 1 - (s - warmup) / max(1, args.steps - warmup)))
    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, "checkpoint.pt")
    step = 0
    if args.resume and os.path.exists(ckpt):
        state = torch.load(ckpt, weights_only=False)
        net.load_state_dict(state["net"])
        head.load_state_dict(state["head"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step = state["step"]
        print(f"resumed at step {step}", file=sys.stderr)
    gen = torch.Generator().manual_seed(args.seed * 7919 + step)
    per_epoch = math.ceil(len(rows) / args.batch_size)
    log = open(os.path.join(args.out, "mlm_log.jsonl"), "a" if step else "w")
    started, seen, tokens, order, epoch_of = time.time(), 0, 0, None, -1
    net.train()
    last = min(args.steps, args.stop_at) if args.stop_at else args.steps
    while step < last:
        epoch = step // per_epoch
        if epoch != epoch_of:
            rng = random.Random(args.seed * 1000003 + epoch)
            order, epoch_of = batches(rows, range(len(rows)), args.batch_size, rng), epoch
        idx = order[step % per_epoch]
        ids, mask = tensors(rows, idx)
        inputs, labels = mask_tokens(ids, mask, vocab, gen, args.mask_rate, args.span)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            states = net.encode(inputs, mask)
            sel = labels != -100
            logits = head(states[sel])
        loss = F.cross_entropy(logits.float(), labels[sel])
        opt.zero_grad()
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g["params"]], args.clip_norm)
        opt.step()
        sched.step()
        step += 1
        seen += len(idx)
        tokens += int(mask.sum())
        el = time.time() - started
        log.write(json.dumps({"step": step, "loss": loss.item(), "lr": sched.get_last_lr()[0], "grad_norm": float(gn),
                              "examples_per_second": seen / el, "tokens_per_second": tokens / el}) + "\n")
        if step % 50 == 0:
            log.flush()
            print(f"step {step}/{args.steps} epoch {epoch} loss {loss.item():.4f} {seen / el:.0f} ex/s "
                  f"{tokens / el:.0f} tok/s", file=sys.stderr, flush=True)
        if args.eval_every and step % args.eval_every == 0:
            acc = masked_accuracy(net, head, dev_rows, vocab, args.bf16)
            log.write(json.dumps({"step": step, "dev_masked_accuracy": acc}) + "\n")
            print(f"step {step} dev masked-token accuracy {acc:.4f}", file=sys.stderr, flush=True)
        if step % args.checkpoint_every == 0 or step == last:
            state = {"net": net.state_dict(), "head": head.state_dict(), "opt": opt.state_dict(),
                     "sched": sched.state_dict(), "step": step, "options": vars(args)}
            torch.save(state, ckpt + ".tmp")
            os.replace(ckpt + ".tmp", ckpt)
            enc = {k: v for k, v in net.state_dict().items() if not k.startswith("heads.")}
            torch.save({"encoder": enc, "step": step, "options": vars(args)}, os.path.join(args.out, "encoder.pt.tmp"))
            os.replace(os.path.join(args.out, "encoder.pt.tmp"), os.path.join(args.out, "encoder.pt"))
    log.close()
    print(json.dumps({"out": args.out, "steps": step}))


if __name__ == "__main__":
    # glibc malloc settings that keep PyTorch's CPU allocations from being returned and refetched each step
    # (the same re-exec as scripts/train_torch.py).
    if any(k not in os.environ for k in MALLOC_ENV):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **MALLOC_ENV})
    main()
