#!/usr/bin/env bash
# One HTTP quote measurement of a crossdock binary: a fresh `serve` (embedded SQLite, the
# demo book, rate limit off) pinned to core 0, 3 s of wrk warm-up, then 10 s of
# `wrk -t1 -c64 --latency -s quote.lua` pinned to core 1 while `perf stat -e task-clock`
# counts the server's CPU time. Prints quotes/s, wrk's p50 and p99, and the server's CPU
# microseconds per quote (task-clock ÷ requests): the least noisy of the three on a VM
# whose speed drifts, since it does not depend on how much CPU the server was given.
#
#   benches/http_cpu.sh BIN LABEL [serve flags…]
#   (the release before the runtime split needs `--book rate-tables/demo`)
# Alternate before/after binaries over several rounds and compare medians.
set -u
BIN=$1; LABEL=$2; shift 2
PORT=${PORT:-18191}
D=$(mktemp -d /var/tmp/pc-XXXXXX)
KEY=$($BIN keys create --roles admin,analyst,shipper --data-dir $D 2>/dev/null | grep -o 'cdk_[A-Za-z0-9_]*' | head -1)
CROSSDOCK_RATE_LIMIT_PER_S=0 taskset -c 0 $BIN serve --listen 127.0.0.1:$PORT --data-dir $D "$@" 2>/dev/null &
S=$!
for i in $(seq 100); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.1; done
KEY=$KEY taskset -c 1 wrk -t1 -c64 -d3s -s "$(dirname "$0")/quote.lua" http://127.0.0.1:$PORT/v1/quotes >/dev/null 2>&1
perf stat -e task-clock -p $S -o /tmp/pc-$LABEL.perf -- sleep 10 &
P=$!
KEY=$KEY taskset -c 1 wrk -t1 -c64 -d10s --latency -s "$(dirname "$0")/quote.lua" http://127.0.0.1:$PORT/v1/quotes > /tmp/pc-$LABEL.wrk 2>&1
wait $P
kill $S; wait $S 2>/dev/null
REQ=$(grep -E '^ +[0-9]+ requests in' /tmp/pc-$LABEL.wrk | awk '{print $1}')
RPS=$(grep Requests/sec /tmp/pc-$LABEL.wrk | awk '{print $2}')
P50=$(grep -E '^ +50%' /tmp/pc-$LABEL.wrk | awk '{print $2}'); P99=$(grep -E '^ +99%' /tmp/pc-$LABEL.wrk | awk '{print $2}')
TC=$(grep task-clock /tmp/pc-$LABEL.perf | awk '{gsub(",","",$1); print $1}')
NON2=$(grep -c Non-2xx /tmp/pc-$LABEL.wrk)
echo "$LABEL rps=$RPS p50=$P50 p99=$P99 cpu_us/req=$(echo "scale=2; $TC*1000/$REQ" | bc) non2xx=$NON2"
rm -rf $D
