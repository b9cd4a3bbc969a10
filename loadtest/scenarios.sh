#!/usr/bin/env bash
# The load figures of the quote server, as one reproducible run on a two-core machine:
# the server pinned to core 0, the generator to core 1 ("load generator included").
#
#   loadtest/scenarios.sh [all|max|fixed|batch|swap]...     (default: all)
#
# Starts `crossdock serve` (release build, the demo book, embedded SQLite in a fresh data
# directory), creates a key, and runs:
#   max    the highest fixed rate held with p99 <= 5 ms (--find-max, single quotes)
#   fixed  10 000 quotes/s for 30 s: p50/p90/p99/p99.9
#   batch  the batch endpoint (100 quotes per call): --find-max with p99 <= 5 ms per call
#   swap   10 000 quotes/s with the demo book and the demo book a month on activated in turn
#          every 5 s, against the same run without swaps (--compare-no-swap)
#   import 5 000 quotes/s idle, then again while a 100 000-row orders upload with
#          ?ship=true runs in the same server (IMPORT_ROWS to change the size)
# Every run's text report goes to stderr and its JSON line to $OUT/<scenario>.json.
# Environment: OUT (default $CARGO_TARGET_DIR/loadtest-runs), PORT (default 18080),
# DURATION (fixed and swap runs, default 30s).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="${OUT:-$CARGO_TARGET_DIR/loadtest-runs}"
PORT="${PORT:-18080}"
DURATION="${DURATION:-30s}"
SCENARIOS=("$@")
if [ ${#SCENARIOS[@]} -eq 0 ] || [ "${SCENARIOS[0]}" = all ]; then SCENARIOS=(max fixed batch swap import); fi
IMPORT_ROWS="${IMPORT_ROWS:-100000}"
cd "$ROOT"
mkdir -p "$OUT"

cargo build --release --quiet -p crossdock -p loadtest -p crossdock-bookgen
BIN="$CARGO_TARGET_DIR/release"
DATA="$(mktemp -d "${TMPDIR:-/tmp}/crossdock-load-XXXXXX")"
NEXT="$DATA/demo-next"
"$BIN/bookgen" demo-next "$NEXT" >/dev/null

KEY="$("$BIN/crossdock" keys create --roles shipper,analyst,admin --data-dir "$DATA/data" --label loadtest | grep -o 'cdk_[A-Za-z0-9_]*' | head -n 1)"
[ -n "$KEY" ] || { echo "could not create a key" >&2; exit 2; }
export CROSSDOCK_KEY="$KEY"

# No rate limit in the way of the figures: the limit is per key and the generator uses one.
CROSSDOCK_RATE_LIMIT_PER_S=0 taskset -c 0 "$BIN/crossdock" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA/data" \
    2>"$OUT/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "the server did not become ready" >&2; cat "$OUT/server.log" >&2; exit 2; }

LOAD=(taskset -c 1 "$BIN/loadtest" --url "http://127.0.0.1:$PORT" --generate demo --n 10000 --ship-date 2026-11-24 --json)
status=0
for scenario in "${SCENARIOS[@]}"; do
    echo "== $scenario ($(date -u +%H:%M:%S), load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    case "$scenario" in
        max) "${LOAD[@]}" --find-max --p99-max 5ms --rate 20000 >"$OUT/max.json" || status=1 ;;
        fixed) "${LOAD[@]}" --rate 10000 --duration "$DURATION" --warmup 3s >"$OUT/fixed.json" || status=1 ;;
        batch) "${LOAD[@]}" --batch 100 --find-max --p99-max 5ms --rate 20000 >"$OUT/batch.json" || status=1 ;;
        swap) "${LOAD[@]}" --rate 10000 --duration "$DURATION" --warmup 3s \
                  --swap-books "$ROOT/rate-tables/demo,$NEXT" --swap-every 5s --compare-no-swap >"$OUT/swap.json" || status=1 ;;
        import)
            SHIPPER="$("$BIN/crossdock" keys create --roles shipper --customer acme --data-dir "$DATA/data" --label import | grep -o 'cdk_[A-Za-z0-9_]*' | head -n 1)"
            curl -sf -H "Authorization: Bearer $SHIPPER" "http://127.0.0.1:$PORT/v1/orders/template.csv" >"$DATA/template.csv"
            python3 "$ROOT/benches/orders_csv.py" "$DATA/template.csv" "$DATA/orders.csv" "$IMPORT_ROWS" LOAD
            "${LOAD[@]}" --rate 5000 --duration "$DURATION" --warmup 3s >"$OUT/import-idle.json" || status=1
            started=$(date +%s.%N)
            curl -sf -H "Authorization: Bearer $SHIPPER" -H 'Content-Type: text/csv' --data-binary @"$DATA/orders.csv" \
                "http://127.0.0.1:$PORT/v1/orders/upload?ship=true" -o "$DATA/import.json" &
            UPLOAD=$!
            sleep 2
            "${LOAD[@]}" --rate 5000 --duration "$DURATION" --warmup 3s >"$OUT/import-busy.json" || status=1
            if kill -0 $UPLOAD 2>/dev/null; then still="still running when the quotes ended"; else still="ENDED BEFORE the quotes did: use more IMPORT_ROWS"; fi
            wait $UPLOAD || status=1
            ended=$(date +%s.%N)
            python3 - "$DATA/import.json" "$started" "$ended" "$still" "$OUT/import-idle.json" "$OUT/import-busy.json" >&2 <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
secs = float(sys.argv[3]) - float(sys.argv[2])
print(f"import: {a['rows']} rows, {a['shipped']} shipped in {secs:.1f} s ({a['shipped'] / secs:,.0f}/s), {sys.argv[4]}")
def p99(path):
    line = [l for l in open(path) if l.strip()][-1]
    return json.loads(line)
for name, path in (("idle", sys.argv[5]), ("import", sys.argv[6])):
    r = p99(path)
    print(f"quotes {name}: {json.dumps(r.get('latency_us') or r)[:400]}")
PY
            ;;
        *) echo "unknown scenario $scenario (all, max, fixed, batch, swap, import)" >&2; exit 2 ;;
    esac
done
echo "JSON results in $OUT" >&2
exit $status
