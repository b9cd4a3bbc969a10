#!/usr/bin/env bash
# Orders to labelled shipments end to end: a ROWS-row CSV upload with ?ship=true to a fresh
# `crossdock serve`, timed from the first byte sent to the last byte of the answer, with the
# server's peak resident memory (VmHWM). Usage:
#   benches/orders_upload.sh BIN [sqlite|postgres] [ROWS]
# BIN is a release crossdock (cargo build --release -p crossdock). postgres uses a fresh
# schema on 127.0.0.1:5432/test. Nothing else should run on the machine meanwhile.
set -euo pipefail
BIN=${1:?crossdock binary}
BACKEND=${2:-sqlite}
ROWS=${3:-100000}
WORK=$(mktemp -d /var/tmp/orders-upload.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DB=sqlite:
SCHEMA=""
if [ "$BACKEND" = postgres ]; then
  SCHEMA="bench_upload_$$"
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $SCHEMA" >/dev/null
  DB="postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3D$SCHEMA"
fi
cleanup() {
  [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "$SCHEMA" ] && psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
"$BIN" serve --listen 127.0.0.1:$PORT --data-dir "$WORK/data" --database "$DB" >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
KEY=$("$BIN" keys create --roles shipper --customer acme --data-dir "$WORK/data" --database "$DB" 2>/dev/null)
curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/v1/orders/template.csv" >"$WORK/template.csv"
python3 "$(dirname "$0")/orders_csv.py" "$WORK/template.csv" "$WORK/orders.csv" "$ROWS" BENCH
START=$(date +%s.%N)
curl -sf -H "Authorization: Bearer $KEY" -H 'Content-Type: text/csv' --data-binary @"$WORK/orders.csv" \
  "http://127.0.0.1:$PORT/v1/orders/upload?ship=true" -o "$WORK/answer.json"
END=$(date +%s.%N)
HWM=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
python3 - "$WORK/answer.json" "$START" "$END" "$HWM" "$BACKEND" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
secs = float(sys.argv[3]) - float(sys.argv[2])
totals = {k: a[k] for k in ("rows", "created", "duplicate", "invalid", "shipped", "ship_failed")}
print(f"{sys.argv[5]}: {totals} in {secs:.2f} s: {a['shipped'] / secs:,.0f} shipments/s, peak RSS {int(sys.argv[4]) / 1024:.0f} MiB")
PY
