#!/usr/bin/env bash
# Dev figures of a model on every dev split `xinsheng prepare` holds out (never a test set).
# Usage: [ENGINE=auto|candle|f32|int8] scripts/eval_dev.sh [MODEL_DIR]   (default models/default, engine auto).
# Writes build/eval/<engine>/<split>.json and prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/default}
engine=${ENGINE:-auto}
out=build/eval/$engine
cargo build --release --quiet
max_len=$(python3 -c "import json,sys; print(json.load(open('$model/config.json'))['xinsheng']['max_length'])")
./target/release/xinsheng prepare --out build/eval/dataset --max-length "$max_len" >/dev/null
mkdir -p "$out"
for f in build/eval/dataset/dev_*.jsonl; do
  split=$(basename "$f" .jsonl); split=${split#dev_}
  ./target/release/xinsheng --model "$model" --engine "$engine" eval --data "$f" > "$out/$split.json"
done
OUT="$out" python3 - <<'PY'
import json, glob, os
print("| dev split | rows | sentiment acc (mode) | sentiment macro-F1 | sentiment ECE | emotion acc | anger recall | categories macro-F1 |")
print("|---|---|---|---|---|---|---|---|")
for p in sorted(glob.glob(os.environ["OUT"] + "/*.json")):
    r = json.load(open(p)); name = os.path.basename(p)[:-5]
    s, e, c = r.get("sentiment"), r.get("emotion"), r.get("categories")
    f = lambda x: f"{x:.3f}"
    print(f"| {name} | {r['examples']} | "
          + (f"{f(s['accuracy'])} ({r['sentiment_mode']})" if s else "–") + " | "
          + (f(s["macro_f1"]) if s else "–") + " | "
          + (f(s["ece"]) if s and s.get("ece") is not None else "–") + " | "
          + (f(e["accuracy"]) if e else "–") + " | "
          + (f(e["per_class"]["anger"]["recall"]) if e else "–") + " | "
          + (f(c["macro_f1"]) if c else "–") + " |")
for p in sorted(glob.glob(os.environ["OUT"] + "/*.json")):
    pts = json.load(open(p)).get("anger_by_threshold")
    if pts:
        print(f"\nanger flagged when its probability >= t ({os.path.basename(p)[:-5]}; the policy's strong_anger): "
              + ", ".join(f"t {o['threshold']:.2f}: P {o['precision']:.2f} R {o['recall']:.2f}" for o in pts))
PY
