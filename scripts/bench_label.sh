#!/usr/bin/env bash
# Benchmark of `xinsheng label` (issue 7): 100k mixed short texts and 1M rows, built at run time from the
# texts of ../shared/data (never committed), labeled with the release binary under /usr/bin/time -v.
# Reports wall time, rows/s and peak RSS per size, and checks that 1M rows peak within 2x of 100k rows.
#
#   scripts/bench_label.sh                 # 100k and 1M
#   SIZES="100000" scripts/bench_label.sh  # 100k only
#
# Environment: DATA (default ../shared/data), OUT (default build/bench), SIZES, XINSHENG_* (passed on).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=${OUT:-build/bench}
SIZES=${SIZES:-"100000 1000000"}
BIN=target/release/xinsheng
mkdir -p "$OUT"
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install -y time" >&2; exit 1; }
[ -d "$DATA" ] || { echo "no data directory $DATA (set DATA=...)" >&2; exit 1; }
cargo build --release --quiet

# Texts: every `text` of the .jsonl/.jsonl.gz files under $DATA, cut to at most 120 characters (short
# customer-service messages), shuffled with a fixed seed; rows cycle through them with an id.
for n in $SIZES; do
  f="$OUT/rows_$n.jsonl"
  [ -s "$f" ] && continue
  python3 - "$DATA" "$n" "$f" <<'EOF'
import gzip, json, pathlib, random, sys
data, n, out = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
texts = []
for p in sorted(data.rglob("*.jsonl*")):
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rt", encoding="utf-8") as fh:
        for line in fh:
            try:
                t = json.loads(line).get("text")
            except Exception:
                continue
            if isinstance(t, str) and t.strip():
                texts.append(t.strip()[:120])
random.Random(7).shuffle(texts)
if not texts:
    sys.exit("no texts found under %s" % data)
with open(out, "w", encoding="utf-8") as fh:
    for i in range(n):
        fh.write(json.dumps({"id": i, "text": texts[i % len(texts)]}, ensure_ascii=False) + "\n")
print("%s: %d rows from %d distinct texts" % (out, n, min(n, len(texts))), file=sys.stderr)
EOF
done

declare -A RSS
for n in $SIZES; do
  f="$OUT/rows_$n.jsonl"
  o="$OUT/labeled_$n.jsonl"
  log="$OUT/time_$n.txt"
  /usr/bin/time -v "$BIN" label --quiet --restart --input "$f" --output "$o" 2>"$log" >/dev/null || {
    tail -20 "$log" >&2; exit 1; }
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  secs=$(echo "$wall" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  RSS[$n]=$rss
  rate=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
  echo "rows=$n wall=${wall} (${secs}s) rows_per_s=$rate peak_rss_mib=$((rss / 1024)) cores=$(nproc)"
done
if [ -n "${RSS[100000]:-}" ] && [ -n "${RSS[1000000]:-}" ]; then
  ratio=$(awk -v a="${RSS[1000000]}" -v b="${RSS[100000]}" 'BEGIN { printf "%.2f", a / b }')
  echo "peak RSS 1M / 100k = $ratio (must be <= 2)"
  awk -v r="$ratio" 'BEGIN { exit !(r <= 2.0) }' || { echo "memory is not bounded" >&2; exit 1; }
fi
