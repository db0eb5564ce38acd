#!/usr/bin/env bash
# Training speed, candle (`xinsheng train`) vs PyTorch (scripts/train_torch.py), same corpus, same config
# (4 layers x 256, 4 heads, FFN 1024, max 160 tokens, batch 64, AdamW), same machine, one after the other.
# Prints examples/s of each and the ratio. Usage: scripts/train_speed.sh [STEPS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-20}
out=build/train_speed
rm -rf "$out"; mkdir -p "$out"
cargo build --release --quiet
./target/release/xinsheng prepare --out "$out/dataset" --max-length 160 >/dev/null
common="--layers 4 --hidden 256 --attention-heads 4 --ffn 1024 --max-length 160 --batch-size 64 --max-steps $steps"
./target/release/xinsheng --threads 2 train --quiet $common --checkpoint-every 0 --out "$out/candle" >/dev/null
python3 scripts/train_torch.py --data "$out/dataset" $common --threads 2 --checkpoint-every 100000 \
  --out "$out/torch_f32" 2>/dev/null >/dev/null
python3 scripts/train_torch.py --data "$out/dataset" $common --threads 2 --checkpoint-every 100000 \
  --bf16 --out "$out/torch_bf16" 2>/dev/null >/dev/null
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
def eps(d):
    rows = [json.loads(l) for l in open(f"{out}/{d}/train_log.jsonl")]
    return rows[-1]["examples_per_second"]
c, t, b = eps("candle"), eps("torch_f32"), eps("torch_bf16")
print(f"| trainer | examples/s | vs candle |\n|---|---|---|")
print(f"| xinsheng train (candle, f32) | {c:.1f} | 1.00 |")
print(f"| PyTorch f32 | {t:.1f} | {t / c:.2f} |")
print(f"| PyTorch bf16 autocast | {b:.1f} | {b / c:.2f} |")
PY
