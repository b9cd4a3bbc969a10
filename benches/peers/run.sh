#!/usr/bin/env bash
# Side by side: crossdock's bulk pre-routing against the same job written in DuckDB SQL.
#
#   benches/peers/run.sh [N]        N parcels, 10 000 000 by default
#
# Generates (or reuses) the default synthetic rate book and N synthetic parcels (Parquet),
# routes them with `crossdock route` and with duckdb_route.sql, both writing Parquet, times
# each (wall clock, and peak RSS when /usr/bin/time is there), prints parcels/s and the
# ratio, then checks that both agree on the parcels the SQL fully covers (those without
# battery or goods: the SQL leaves restrictions out). Everything goes under
# $CARGO_TARGET_DIR/peers; DuckDB is installed from PyPI into $CARGO_TARGET_DIR/peers-venv.
# Environment: ROUTE_BIN to use another routing binary (same flags as `crossdock route`),
# THREADS to limit both engines' threads (default: every core).
set -euo pipefail

N="${1:-10000000}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$CARGO_TARGET_DIR/peers"
VENV="$CARGO_TARGET_DIR/peers-venv"
BOOK="$WORK/synthetic"
PARCELS="$WORK/parcels-$N.parquet"
TODAY=2026-11-24
mkdir -p "$WORK"
cd "$ROOT"

if ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet duckdb
fi

cargo build --release --quiet -p crossdock-bookgen -p crossdock-bulk
if [ ! -f "$BOOK/book.toml" ]; then
    cargo run --release --quiet -p crossdock-bookgen -- synthetic "$BOOK"
fi
if [ ! -f "$PARCELS" ]; then
    "$CARGO_TARGET_DIR/release/make_parcels" "$PARCELS.partial.parquet" --n "$N"
    mv "$PARCELS.partial.parquet" "$PARCELS"
fi

# `crossdock route` once the CLI has it; until then the crate's own thin shell, which makes
# the same single call (crossdock_bulk::route_file).
if [ -z "${ROUTE_BIN:-}" ]; then
    if cargo build --release --quiet -p crossdock 2>/dev/null \
        && "$CARGO_TARGET_DIR/release/crossdock" --help 2>/dev/null | grep -q 'crossdock route'; then
        ROUTE=("$CARGO_TARGET_DIR/release/crossdock" route)
    else
        echo "note: \`crossdock route\` is not available; using bulk_route (the same route_file call)"
        ROUTE=("$CARGO_TARGET_DIR/release/bulk_route")
    fi
else
    ROUTE=("$ROUTE_BIN")
fi
THREAD_FLAGS=()
if [ -n "${THREADS:-}" ]; then THREAD_FLAGS=(--threads "$THREADS"); fi

# Runs a command; prints "SECONDS PEAK_RSS_KB" on the last line of $2.
timed() {
    local log="$1"; shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -v "$@" 2>"$log.time" >"$log"
        local wall rss
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log.time" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log.time")
        echo "$wall $rss" >>"$log"
    else
        local start end
        start=$(date +%s.%N)
        "$@" >"$log"
        end=$(date +%s.%N)
        echo "$(echo "$end - $start" | bc) -" >>"$log"
    fi
}

echo "machine: $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "parcels: $PARCELS ($N rows); book: $BOOK"

OUT_CROSSDOCK="$WORK/routed-crossdock-$N.parquet"
timed "$WORK/crossdock.log" "${ROUTE[@]}" --book "$BOOK" --in "$PARCELS" --out "$OUT_CROSSDOCK" --today "$TODAY" "${THREAD_FLAGS[@]}"
read -r CD_SECONDS CD_RSS < <(tail -n1 "$WORK/crossdock.log")

OUT_DUCKDB="$WORK/routed-duckdb-$N.parquet"
BASE_CURRENCY=$(awk -F'"' '/^base_currency/ {print $2}' "$BOOK/book.toml")
cat >"$WORK/duckdb_route.py" <<'EOF'
import sys, duckdb
sql_path, book, parcels, out, base, today, work, threads = sys.argv[1:9]
sql = open(sql_path).read()
for key, value in {"book": book, "parcels": parcels, "out": out, "base_currency": base, "today": today}.items():
    sql = sql.replace("{{" + key + "}}", value)
con = duckdb.connect()
con.execute(f"SET temp_directory = '{work}/duckdb.tmp'")
if threads:
    con.execute(f"SET threads = {int(threads)}")
con.execute(sql)
print(f"duckdb {duckdb.__version__}")
EOF
timed "$WORK/duckdb.log" "$VENV/bin/python" "$WORK/duckdb_route.py" "$ROOT/benches/peers/duckdb_route.sql" \
    "$BOOK" "$PARCELS" "$OUT_DUCKDB" "$BASE_CURRENCY" "$TODAY" "$WORK" "${THREADS:-}"
read -r DB_SECONDS DB_RSS < <(tail -n1 "$WORK/duckdb.log")

head -n -1 "$WORK/crossdock.log"
head -n -1 "$WORK/duckdb.log"
awk -v n="$N" -v a="$CD_SECONDS" -v b="$DB_SECONDS" -v ra="$CD_RSS" -v rb="$DB_RSS" 'BEGIN {
    printf "%-10s %10s %14s %14s\n", "", "seconds", "parcels/s", "peak RSS MiB"
    printf "%-10s %10.1f %14.0f %14s\n", "crossdock", a, n / a, (ra == "-" ? "-" : sprintf("%.0f", ra / 1024))
    printf "%-10s %10.1f %14.0f %14s\n", "duckdb", b, n / b, (rb == "-" ? "-" : sprintf("%.0f", rb / 1024))
    printf "crossdock / duckdb throughput: %.2f\n", b / a
}'

# Agreement where the SQL covers the semantics: parcels without battery and goods.
"$VENV/bin/python" - "$PARCELS" "$OUT_CROSSDOCK" "$OUT_DUCKDB" <<'EOF'
import sys, duckdb
parcels, ours, theirs = sys.argv[1:4]
con = duckdb.connect()
row = con.execute(f"""
    SELECT count(*) AS compared,
           count(*) FILTER (WHERE c.status = d.status AND c.service IS NOT DISTINCT FROM d.service
                              AND c.sell IS NOT DISTINCT FROM d.sell AND c.cost IS NOT DISTINCT FROM d.cost
                              AND c.chargeable_weight_g IS NOT DISTINCT FROM d.chargeable_weight_g) AS agree,
           count(*) FILTER (WHERE c.status = 'routed') AS routed
    FROM read_parquet('{parcels}') p
    JOIN read_parquet('{ours}') c USING (id)
    JOIN read_parquet('{theirs}') d USING (id)
    WHERE coalesce(p.battery, '') IN ('', 'none') AND coalesce(p.goods, '') = ''
""").fetchone()
compared, agree, routed = row
print(f"agreement on parcels without battery or goods: {agree} of {compared} ({routed} routed by crossdock)")
if agree != compared:
    print(con.sql(f"""
        SELECT c.id, c.status, c.service, c.sell, c.cost, d.status AS d_status, d.service AS d_service, d.sell AS d_sell, d.cost AS d_cost
        FROM read_parquet('{parcels}') p JOIN read_parquet('{ours}') c USING (id) JOIN read_parquet('{theirs}') d USING (id)
        WHERE coalesce(p.battery, '') IN ('', 'none') AND coalesce(p.goods, '') = ''
          AND NOT (c.status = d.status AND c.service IS NOT DISTINCT FROM d.service AND c.sell IS NOT DISTINCT FROM d.sell
                   AND c.cost IS NOT DISTINCT FROM d.cost)
        LIMIT 10"""))
    sys.exit(1)
EOF
