#!/usr/bin/env bash
# Load test of `xinsheng serve` on loopback with wrk (Debian package `wrk`; oha works the same way if you
# prefer it). Starts its own server on a free port, runs short utterances and 500-character texts at
# concurrency 1, 8 and 64, then a 5x overload (more connections than --max-concurrent) while sampling the
# server's memory, and prints throughput and p50/p99 per run. Every run is bounded in time; traffic goes
# to 127.0.0.1 only.
#
#   scripts/load_test.sh            # 10 s per run
#   DURATION=5 scripts/load_test.sh
#   SERVER_ARGS="--workers 1 --max-batch-size 32" scripts/load_test.sh   # extra `serve` flags
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10}"
MAX_CONCURRENT="${MAX_CONCURRENT:-64}"
BIN="${BIN:-target/release/xinsheng}"
command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk" >&2; exit 1; }
[ -x "$BIN" ] || cargo build --release

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

XINSHENG_LOG=error "$BIN" serve --host 127.0.0.1 --port 0 --max-concurrent "$MAX_CONCURRENT" \
    ${SERVER_ARGS:-} > "$WORK/server.out" 2> "$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 600); do
    grep -q "listening on" "$WORK/server.out" 2>/dev/null && break
    sleep 0.1
done
BASE="$(sed -n 's/^xinsheng listening on //p' "$WORK/server.out")"
[ -n "$BASE" ] || { cat "$WORK/server.err" >&2; exit 1; }
for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/ready")" = 200 ] && break
    sleep 0.1
done

# Request bodies as wrk Lua scripts.
short='{"text": "我的宽带又断网了，什么时候能修好？"}'
long_text="$(python3 -c 'print(("我已经打了三次电话了，等了一个星期都没人处理，客服态度还特别差，" * 20)[:500])')"
long="{\"text\": \"$long_text\"}"
for name in short long; do
    body="${!name}"
    cat > "$WORK/$name.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$body]]
LUA
done

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }

run() { # name connections
    local name="$1" c="$2" threads=$(( $2 < 2 ? 1 : 2 ))
    local out
    out="$(wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$WORK/$name.lua" \
        "$BASE/v1/analyze")"
    local rps p50 p99 non2xx
    rps="$(awk '/^Requests\/sec/ {print $2}' <<< "$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<< "$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<< "$out")"
    non2xx="$(awk '/Non-2xx/ {print $NF}' <<< "$out")"
    printf '%-6s %5s %10s %10s %10s %10s %9s\n' "$name" "$c" "$rps" "$p50" "$p99" "${non2xx:-0}" "$(rss_kb)"
}

echo "server $BASE, max-concurrent $MAX_CONCURRENT, $DURATION s per run, $(nproc) cores"
printf '%-6s %5s %10s %10s %10s %10s %9s\n' text conc req/s p50 p99 non-2xx rss_kb
for name in ${TEXTS:-short long}; do
    for c in ${CONCURRENCY:-1 8 64}; do
        run "$name" "$c"
    done
done
echo "overload: $((MAX_CONCURRENT * 5)) connections against --max-concurrent $MAX_CONCURRENT (non-2xx = 429s)"
before="$(rss_kb)"
run short $((MAX_CONCURRENT * 5))
run long $((MAX_CONCURRENT * 5))
after="$(rss_kb)"
echo "server RSS before overload ${before} kB, after ${after} kB"
curl -s "$BASE/metrics" | grep -E '^xinsheng_http_requests_total\{method="POST",route="/v1/analyze"' || true
