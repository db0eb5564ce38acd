#!/usr/bin/env bash
# Fits the learned escalation model (MODEL_DIR/risk_model.json) to the risk training data: every part of
# tests/data/risk_train plus the tune halves (even ids) of the two risk dev sets. Training rows that copy an
# evaluation text (character-trigram Dice >= 0.5 with a held-out or check row) are left out. The threshold
# is chosen by leave-one-part-out cross-validation (printed, and stored in the file under `training`).
# Usage: scripts/train_risk.sh [MODEL_DIR]   (default models/default; about 10 s on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/default}
cargo build --release --quiet
data=()
for d in tests/data/risk_train/*/; do data+=(--data "${d%/}"); done
./target/release/xinsheng --model "$model" --engine "${ENGINE:-int8}" train-risk "${data[@]}" \
  --tune tests/data/risk --tune tests/data/risk_fresh \
  --exclude-near tests/data/risk --exclude-near tests/data/risk_fresh --exclude-near tests/data/risk_check \
  --output "$model/risk_model.json"
