#!/usr/bin/env bash
# Fits the learned risk models to the risk training data — every part of tests/data/risk_train plus the tune
# halves (even ids) of the two risk dev sets: first the escalation model (MODEL_DIR/risk_model.json), then the
# complaint model (MODEL_DIR/complaint_model.json), which acts after the escalation model and so is fitted
# with it in place. Training rows that copy an evaluation text (character-trigram Dice >= 0.5 with a held-out
# or check row) are left out. Thresholds are chosen by leave-one-part-out cross-validation (printed, and
# stored in each file under `training`).
# Usage: scripts/train_risk.sh [MODEL_DIR]   (default models/default; about 20 s after the build)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/default}
cargo build --release --quiet
data=()
for d in tests/data/risk_train/*/; do data+=(--data "${d%/}"); done
for target in escalate complaint; do
  out=$model/risk_model.json signals=()
  # The complaint model also reads the sentiment head (praise is no complaint, whatever its words).
  [ "$target" = complaint ] && out=$model/complaint_model.json signals=(--signals negative,positive)
  ./target/release/xinsheng --model "$model" --engine "${ENGINE:-int8}" train-risk "${data[@]}" \
    --tune tests/data/risk --tune tests/data/risk_fresh \
    --exclude-near tests/data/risk --exclude-near tests/data/risk_fresh --exclude-near tests/data/risk_check \
    --target "$target" "${signals[@]}" --output "$out"
done
