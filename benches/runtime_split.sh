#!/usr/bin/env bash
# Issue 7's before/after figures for the runtime split, on one two-core machine, in one
# session: the release before the split (BEFORE, default commit d10b6e5) against the tree
# after it (AFTER), each a git worktree built in its own target directory.
#
#   benches/runtime_split.sh build                 release binaries and the criterion bench, both trees
#   benches/runtime_split.sh criterion [ROUNDS]    `quote/demo*` criterion, before/after interleaved (default 2 rounds)
#   benches/runtime_split.sh http [ROUNDS]         HTTP quotes/s, before/after/after-RUST_LOG=warn alternated (default 2 rounds)
#
# Every HTTP block starts a fresh `crossdock serve` (embedded SQLite in a fresh data
# directory, the demo book, no rate limit, stderr to /dev/null) pinned to core 0, creates an
# admin,analyst,shipper key, then pins each generator to core 1 as loadtest/scenarios.sh does:
#   loadtest --find-max --p99-max 5ms --rate 20000     (the highest rate held with p99 <= 5 ms)
#   loadtest --rate 10000 --duration $FIXED            (p50/p90/p99/p99.9 at 10 000 quotes/s)
#   wrk -t1 -c64 -d$WRK --latency -s quote.lua         (an independent closed-loop client)
# Before each block and each criterion run it waits up to 10 minutes for the 1-minute load
# average to fall below 0.8 (LOAD_MAX, WAIT_MAX_S) and prints the load it measured under.
# Environment: BEFORE_DIR, AFTER_DIR (worktrees, default /work/bench-before, /work/bench-after),
# BEFORE_TARGET, AFTER_TARGET (their CARGO_TARGET_DIRs), OUT (default /var/tmp/runtime-split/<UTC time>),
# PORT (default 18090), FIXED (default 20s), WRK (default 15s).
set -euo pipefail

BEFORE_DIR="${BEFORE_DIR:-/work/bench-before}"
AFTER_DIR="${AFTER_DIR:-/work/bench-after}"
BEFORE_TARGET="${BEFORE_TARGET:-/var/tmp/bench-before-target}"
AFTER_TARGET="${AFTER_TARGET:-/var/tmp/bench-after-target}"
OUT="${OUT:-/var/tmp/runtime-split/$(date -u +%Y%m%dT%H%M%SZ)}"
PORT="${PORT:-18090}"
FIXED="${FIXED:-20s}"
WRK="${WRK:-15s}"
LOAD_MAX="${LOAD_MAX:-0.8}"
WAIT_MAX_S="${WAIT_MAX_S:-600}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$OUT"

load1() { cut -d' ' -f1 /proc/loadavg; }

# Waits (bounded) for a quiet machine; prints what it measured under.
wait_quiet() {
    local waited=0
    while awk -v l="$(load1)" -v m="$LOAD_MAX" 'BEGIN { exit !(l >= m) }' && [ "$waited" -lt "$WAIT_MAX_S" ]; do
        sleep 10
        waited=$((waited + 10))
    done
    local state=quiet
    awk -v l="$(load1)" -v m="$LOAD_MAX" 'BEGIN { exit !(l >= m) }' && state="NOT QUIET (gave up waiting)"
    echo "   $(date -u +%H:%M:%S) load average $(cut -d' ' -f1-3 /proc/loadavg) after waiting ${waited} s: $state"
}

tree_of() { case "$1" in before) echo "$BEFORE_DIR" ;; *) echo "$AFTER_DIR" ;; esac; }
target_of() { case "$1" in before) echo "$BEFORE_TARGET" ;; *) echo "$AFTER_TARGET" ;; esac; }

build() {
    for side in after before; do
        (cd "$(tree_of $side)" && CARGO_TARGET_DIR="$(target_of $side)" cargo build --release -p crossdock -p loadtest \
            && CARGO_TARGET_DIR="$(target_of $side)" cargo bench -p crossdock-benches --bench quote --no-run)
    done
}

criterion() {
    local rounds="${1:-2}"
    for round in $(seq "$rounds"); do
        for side in before after; do
            echo "== criterion $side, round $round"
            wait_quiet
            (cd "$(tree_of $side)" && CARGO_TARGET_DIR="$(target_of $side)" \
                cargo bench -p crossdock-benches --bench quote -- 'quote/demo' 2>&1) \
                | tee "$OUT/criterion-$side-$round.txt" | grep -E '^quote/|time:'
        done
    done
}

# One HTTP block: side (before|after), the server's extra environment (e.g. RUST_LOG=warn), a label.
http_block() {
    local side="$1" extra_env="$2" label="$3" round="$4"
    local bin data key server
    bin="$(target_of "$side")/release"
    data="$(mktemp -d /var/tmp/runtime-split-data-XXXXXX)"
    echo "== http $label, round $round"
    wait_quiet
    key="$("$bin/crossdock" keys create --roles admin,analyst,shipper --data-dir "$data" 2>/dev/null \
        | grep -o 'cdk_[A-Za-z0-9_]*' | head -n 1)"
    [ -n "$key" ] || { echo "could not create a key" >&2; return 2; }
    local serve=(serve --listen "127.0.0.1:$PORT" --data-dir "$data")
    [ "$side" = before ] && serve+=(--book "$BEFORE_DIR/rate-tables/demo")
    # shellcheck disable=SC2086
    env CROSSDOCK_RATE_LIMIT_PER_S=0 $extra_env taskset -c 0 "$bin/crossdock" "${serve[@]}" 2>/dev/null &
    server=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
        sleep 0.1
    done
    local gen=(taskset -c 1 "$bin/loadtest" --url "http://127.0.0.1:$PORT" --key "$key" --generate demo --n 10000
        --ship-date 2026-11-24 --json)
    local tag="$label-$round"
    echo "   $(date -u +%H:%M:%S) find-max, load $(cut -d' ' -f1-3 /proc/loadavg)"
    "${gen[@]}" --find-max --p99-max 5ms --rate 20000 >"$OUT/max-$tag.json" 2>"$OUT/max-$tag.txt" || true
    grep '^find-max' "$OUT/max-$tag.txt" || tail -n 2 "$OUT/max-$tag.txt"
    echo "   $(date -u +%H:%M:%S) fixed 10000/s for $FIXED, load $(cut -d' ' -f1-3 /proc/loadavg)"
    "${gen[@]}" --rate 10000 --duration "$FIXED" --warmup 3s >"$OUT/fixed-$tag.json" 2>"$OUT/fixed-$tag.txt" || true
    grep -E '^(achieved|latency|send lag|generator|verdict)' "$OUT/fixed-$tag.txt"
    echo "   $(date -u +%H:%M:%S) wrk $WRK, load $(cut -d' ' -f1-3 /proc/loadavg)"
    KEY="$key" taskset -c 1 wrk -t1 -c64 -d"$WRK" --latency -s "$HERE/quote.lua" "http://127.0.0.1:$PORT/v1/quotes" \
        >"$OUT/wrk-$tag.txt" 2>&1 || true
    grep -E 'Requests/sec|Non-2xx|Socket errors|^ +(50|90|99)%' "$OUT/wrk-$tag.txt"
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$data"
}

http() {
    local rounds="${1:-2}"
    for round in $(seq "$rounds"); do
        http_block before "" before "$round"
        http_block after "" after-info "$round"
        http_block after "RUST_LOG=warn" after-warn "$round"
    done
}

case "${1:-}" in
    build) build ;;
    criterion) criterion "${2:-2}" ;;
    http) http "${2:-2}" ;;
    *) echo "usage: $0 build | criterion [ROUNDS] | http [ROUNDS]" >&2; exit 2 ;;
esac
