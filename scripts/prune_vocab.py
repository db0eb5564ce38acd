#!/usr/bin/env python3
"""Prune a model directory's vocabulary to the tokens its network was trained on.

A from-scratch model trained on `xinsheng prepare`'s corpus sees about 7,600 of the 21,128 tokens of the
bert-base-chinese vocabulary. The other rows of its word-embedding matrix never received a gradient as input
embeddings (masked-LM pretraining only pushed them around as output vectors), so a text holding such a token
reads noise where it should read "unknown". This script keeps the special tokens and every token id that occurs
in the corpus's training rows (`train.jsonl`, the `ids` field `prepare` wrote, so exactly the windows the network
saw), drops the other embedding rows, and rewrites `tokenizer.json` so that dropped tokens become `[UNK]`. The
network is otherwise unchanged; the model directory stays a plain Hugging Face BERT directory with a smaller
`vocab_size`.

    python3 scripts/prune_vocab.py --model models/default --data build/dataset --out build/pruned

Every other file of the model directory (n-gram models, policy, risk models) is copied unchanged. The training
scripts read a pruned directory back into the corpus's token ids (`train_torch.model_dir_weights`): tokens the
pruned vocabulary lacks take its `[UNK]` row, which is what inference does with them.
"""
import argparse
import json
import os
import shutil
import sys

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_torch import WORD_EMBEDDINGS as EMBEDDINGS  # noqa: E402

SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def seen_ids(train_path, min_count):
    counts = {}
    with open(train_path, encoding="utf-8") as f:
        for line in f:
            for i in json.loads(line)["ids"]:
                counts[i] = counts.get(i, 0) + 1
    return {i for i, c in counts.items() if c >= min_count}


def prune(model_dir, train_path, out, min_count=1):
    tok = json.load(open(os.path.join(model_dir, "tokenizer.json"), encoding="utf-8"))
    vocab = tok["model"]["vocab"]
    by_id = {i: t for t, i in vocab.items()}
    tensors = load_file(os.path.join(model_dir, "model.safetensors"))
    emb = tensors[EMBEDDINGS]
    if emb.shape[0] != len(vocab):
        raise SystemExit(f"{model_dir}: {EMBEDDINGS} has {emb.shape[0]} rows, tokenizer.json {len(vocab)} tokens")
    keep = seen_ids(train_path, min_count)
    missing = [i for i in keep if i not in by_id]
    if missing:
        raise SystemExit(f"{train_path}: token ids {missing[:5]} are not in {model_dir}'s vocabulary "
                         "(is the directory already pruned, or was the corpus prepared with another tokenizer?)")
    keep |= {vocab[t] for t in SPECIAL}
    old_ids = sorted(keep)
    new_id = {old: new for new, old in enumerate(old_ids)}
    tok["model"]["vocab"] = {by_id[old]: new for new, old in enumerate(old_ids)}
    for added in tok.get("added_tokens", []):
        if added["id"] not in new_id:
            raise SystemExit(f"{model_dir}: added token {added['content']} would be dropped")
        added["id"] = new_id[added["id"]]
    for special in (tok.get("post_processor") or {}).get("special_tokens", {}).values():
        special["ids"] = [new_id[i] for i in special["ids"]]
    if tok.get("padding"):
        tok["padding"]["pad_id"] = new_id[tok["padding"]["pad_id"]]
    tensors[EMBEDDINGS] = emb[torch.tensor(old_ids)].contiguous()
    cfg = json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8"))
    cfg["vocab_size"] = len(old_ids)
    if "pad_token_id" in cfg:
        cfg["pad_token_id"] = new_id[cfg["pad_token_id"]]
    os.makedirs(out, exist_ok=True)
    same = os.path.realpath(out) == os.path.realpath(model_dir)
    for name in os.listdir(model_dir):
        src = os.path.join(model_dir, name)
        if not same and os.path.isfile(src) and name not in ("model.safetensors", "tokenizer.json", "config.json"):
            shutil.copy(src, os.path.join(out, name))
    save_file(tensors, os.path.join(out, "model.safetensors"))
    os.chmod(os.path.join(out, "model.safetensors"), 0o644)
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False, indent=2)
        f.write("\n")
    return len(vocab), len(old_ids)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model directory to prune")
    ap.add_argument("--data", default="build/dataset", help="corpus written by `xinsheng prepare` (its train.jsonl)")
    ap.add_argument("--out", required=True, help="output model directory (may be --model itself)")
    ap.add_argument("--min-count", type=int, default=1,
                    help="keep tokens seen at least this many times in the training rows")
    args = ap.parse_args()
    before, after = prune(args.model, os.path.join(args.data, "train.jsonl"), args.out, args.min_count)
    size = os.path.getsize(os.path.join(args.out, "model.safetensors"))
    print(f"{args.out}: vocabulary {before} -> {after} tokens, model.safetensors {size / 1e6:.1f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
