#!/usr/bin/env bash
# Rebuilds the shipped model (models/default) from ../shared/data and the hand-labeled sets in tests/data,
# in one command. Needs python3 with torch and safetensors (pip install -r scripts/requirements-train.txt).
#
#   scripts/train_default.sh [OUT]      (default OUT = models/default)
#   MLM_STEPS=0 scripts/train_default.sh OUT      (no masked-LM pretraining: the v2 recipe)
#
# Steps: build xinsheng; weak category labels over the negative reviews (scripts/weak_categories.py);
# `xinsheng prepare` (normalized, deduplicated, dev splits held out, token ids); masked-LM pretraining of the
# encoder on the training texts (scripts/pretrain_mlm.py: a 4,000-step schedule stopped at step 2,600 —
# MLM_STEPS / MLM_STOP_AT); scripts/train_torch.py from those weights (3 epochs, bf16 autocast, EMA 0.999,
# emotion classes balanced, categories head on the token maximum); the policy and keyword files that ship
# with the model are kept; dev figures at the end (scripts/eval_dev.sh).
# Wall time on the 2-core machine of the README when nothing else runs: about 40 minutes of pretraining
# plus 48 minutes of fine-tuning.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-models/default}
cargo build --release --quiet
python3 scripts/weak_categories.py > build/weak_report.md
./target/release/xinsheng prepare --out build/dataset --max-length 160 \
  --weak-categories build/weak_categories.jsonl
tmp=build/train_default
rm -rf "$tmp"
init=()
if [ "${MLM_STEPS:=4000}" -gt 0 ]; then
  rm -rf build/mlm
  python3 scripts/pretrain_mlm.py --data build/dataset --out build/mlm --steps "$MLM_STEPS" \
    --stop-at "${MLM_STOP_AT:-2600}" --batch-size 128 --bf16 --span
  init=(--init build/mlm/encoder.pt)
fi
python3 scripts/train_torch.py --data build/dataset --out "$tmp" --epochs 3 --bf16 \
  --emotion-weight 0.5 --emotion-balance 0.5 --ema 0.999 "${init[@]}"
mkdir -p "$out"
cp "$tmp/config.json" "$tmp/model.safetensors" "$tmp/tokenizer.json" "$out/"
scripts/eval_dev.sh "$out"
