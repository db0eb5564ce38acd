#!/usr/bin/env python3
"""Masked-language-model (or replaced-token-detection) pretraining of the xinsheng encoder, from random weights,
on the training texts.

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

With --objective rtd the encoder learns by replaced-token detection instead (the ELECTRA idea): a small
generator (--gen-layers, --gen-ffn; sharing the encoder's embeddings) fills the masked positions with tokens
sampled from its own MLM predictions, and the encoder, as a discriminator, learns for *every* token whether it
is the original or a replacement. Loss = generator MLM + --rtd-weight x discriminator BCE. The encoder learns
from all tokens instead of 15% of them. On this corpus and budget it did not learn (the discriminator stayed at
the base rate for hundreds of steps; docs/model_history.md, "Replaced-token detection"), so the shipped recipe keeps --objective
mlm. As a second stage, started from a masked-LM encoder (--init build/mlm_2600/encoder.pt), the discriminator
does learn; fine-tunes from it gain on ChnSentiCorp (two seeds), but the gain is gone after the refinement and
the n-gram blends (docs/model_history.md, "Replaced-token detection as a second stage after masked-LM").

    python3 scripts/pretrain_mlm.py --objective rtd --data build/dataset --out build/rtd --steps 2000 --bf16

Memory: with the glibc settings below a run holds 11-14 GB after a few hundred steps, so two runs side by side
do not fit in 24 GB (one was killed by the kernel); run one at a time, or set the MALLOC_* variables yourself
(then about 2.7 GB; side by side with another run, 48-55 examples/s against 70).

Writes OUT/checkpoint.pt every --checkpoint-every steps (`--resume` continues) and OUT/encoder.pt (the
encoder weights only) at each checkpoint; logs to OUT/mlm_log.jsonl. Masked-token accuracy on a fixed
held-out sample of the dev texts (with rtd, the generator's) is printed every --eval-every steps.
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
from train_torch import (CORPUS_TOKENIZER, MALLOC_ENV, Net, batches, load_encoder,  # noqa: E402
                         model_dir_weights, read, tensors, token_vocab)

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


class RtdHead(nn.Module):
    """Replaced-token detection: one logit per token (original vs replaced)."""

    def __init__(self, h):
        super().__init__()
        self.dense = nn.Linear(h, h)
        self.out = nn.Linear(h, 1)

    def forward(self, x):
        return self.out(F.gelu(self.dense(x))).squeeze(-1)


def generator_of(net, vocab, args):
    """The RTD generator: a shallow encoder whose embeddings are the discriminator's own modules."""
    gen = Net(vocab, args.hidden, args.gen_layers, args.heads, args.gen_ffn, args.max_length, args.dropout, {})
    gen.word, gen.pos, gen.tok, gen.emb_norm = net.word, net.pos, net.tok, net.emb_norm
    return gen


def rtd_step(net, gen, head, disc, inputs, labels, ids, mask, rng, weight, disc_mlm=None):
    """Generator MLM loss, the sampled corruption, and the discriminator loss over every real token (plus, with
    disc_mlm, the discriminator's own prediction of the original token at the corrupted positions)."""
    sel = labels != -100
    g_logits = head(gen.encode(inputs, mask)[sel])
    g_loss = F.cross_entropy(g_logits.float(), labels[sel])
    with torch.no_grad():
        sampled = torch.multinomial(F.softmax(g_logits.float(), -1), 1, generator=rng).squeeze(-1)
        corrupt = ids.clone()
        corrupt[sel] = sampled
        replaced = (corrupt != ids).float()
    states = net.encode(corrupt, mask)
    d_logits = disc(states).float()
    real = mask.bool()
    d_loss = F.binary_cross_entropy_with_logits(d_logits[real], replaced[real])
    loss = g_loss + weight * d_loss
    if disc_mlm is not None:
        loss = loss + F.cross_entropy(disc_mlm(states[sel]).float(), labels[sel])
    return loss, g_loss, d_loss, (d_logits[real] > 0).float(), replaced[real]


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
    ap.add_argument("--tokenizer", default=CORPUS_TOKENIZER)
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
    ap.add_argument("--objective", choices=["mlm", "rtd", "rtd_mlm"], default="mlm",
                    help="mlm: predict the masked tokens; rtd: replaced-token detection on every token (ELECTRA); "
                         "rtd_mlm: rtd, and the encoder also predicts the original token where it was replaced")
    ap.add_argument("--gen-layers", type=int, default=2, help="rtd: layers of the generator")
    ap.add_argument("--gen-ffn", type=int, default=512, help="rtd: feed-forward size of the generator")
    ap.add_argument("--rtd-weight", type=float, default=50.0, help="rtd: weight of the discriminator loss")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--checkpoint-every", type=int, default=200)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init-model", default=None, metavar="MODEL_DIR",
                    help="start the encoder from a model directory of this shape (e.g. models/default) instead of "
                         "random weights: a second pretraining stage")
    ap.add_argument("--init", default=None, metavar="ENCODER_PT",
                    help="start the encoder from the encoder.pt of an earlier run of this script (e.g. "
                         "build/mlm_2600/encoder.pt): replaced-token detection as a second stage after masked-LM")
    args = ap.parse_args()
    if args.init and args.init_model:
        ap.error("--init and --init-model exclude each other")

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
    vocab = len(token_vocab(args.tokenizer))
    net = Net(vocab, args.hidden, args.layers, args.heads, args.ffn, args.max_length, args.dropout, {})
    if args.init_model:
        net.load_state_dict(model_dir_weights(net, args.init_model, args.tokenizer))
        print(f"encoder initialized from {args.init_model}", file=sys.stderr)
    if args.init:
        load_encoder(net, args.init)
    rtd = args.objective.startswith("rtd")
    gen = generator_of(net, vocab, args) if rtd else None
    disc = RtdHead(args.hidden) if rtd else None
    head = MlmHead(net.word, args.hidden)
    disc_mlm = MlmHead(net.word, args.hidden) if args.objective == "rtd_mlm" else None
    extra = {"mlm": head, "gen": gen, "rtd": disc, "disc_mlm": disc_mlm}
    params = list(net.named_parameters())
    known = {id(p) for _, p in params}
    for name, mod in extra.items():
        for n, p in (mod.named_parameters() if mod is not None else []):
            if id(p) not in known:
                known.add(id(p))
                params.append((f"{name}.{n}", p))
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
        if rtd:
            gen.load_state_dict(state["gen"])
            disc.load_state_dict(state["rtd"])
        if disc_mlm is not None:
            disc_mlm.load_state_dict(state["disc_mlm"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step = state["step"]
        print(f"resumed at step {step}", file=sys.stderr)
    mask_rng = torch.Generator().manual_seed(args.seed * 7919 + step)
    gen_rng = torch.Generator().manual_seed(args.seed * 104729 + step)
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
        inputs, labels = mask_tokens(ids, mask, vocab, mask_rng, args.mask_rate, args.span)
        extra_log = {}
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            if rtd:
                loss, g_loss, d_loss, said, truth = rtd_step(net, gen, head, disc, inputs, labels, ids, mask, gen_rng,
                                                             args.rtd_weight, disc_mlm)
                hits, share = float((said * truth).sum()), float(truth.mean())
                base = -(share * math.log(share) + (1 - share) * math.log(1 - share)) if 0 < share < 1 else 1.0
                extra_log = {"generator_loss": g_loss.item(), "discriminator_loss": d_loss.item(),
                             "replaced_share": share,
                             # share of the base-rate uncertainty the discriminator removes (0 = it has learned
                             # nothing beyond how many tokens are replaced)
                             "replaced_information": 1 - d_loss.item() / base,
                             "replaced_recall": hits / max(1.0, float(truth.sum())),
                             "replaced_precision": hits / max(1.0, float(said.sum()))}
            else:
                sel = labels != -100
                loss = F.cross_entropy(head(net.encode(inputs, mask)[sel]).float(), labels[sel])
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
                              "examples_per_second": seen / el, "tokens_per_second": tokens / el, **extra_log}) + "\n")
        if step % 50 == 0:
            log.flush()
            more = " ".join(f"{k} {v:.4f}" for k, v in extra_log.items())
            print(f"step {step}/{args.steps} epoch {epoch} loss {loss.item():.4f} {more} {seen / el:.0f} ex/s "
                  f"{tokens / el:.0f} tok/s", file=sys.stderr, flush=True)
        if args.eval_every and step % args.eval_every == 0:
            acc = masked_accuracy(gen if rtd else net, head, dev_rows, vocab, args.bf16)
            log.write(json.dumps({"step": step, "dev_masked_accuracy": acc}) + "\n")
            print(f"step {step} dev masked-token accuracy {acc:.4f}", file=sys.stderr, flush=True)
        if step % args.checkpoint_every == 0 or step == last:
            state = {"net": net.state_dict(), "head": head.state_dict(), "opt": opt.state_dict(),
                     "sched": sched.state_dict(), "step": step, "options": vars(args)}
            if rtd:
                state["gen"], state["rtd"] = gen.state_dict(), disc.state_dict()
            if disc_mlm is not None:
                state["disc_mlm"] = disc_mlm.state_dict()
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
