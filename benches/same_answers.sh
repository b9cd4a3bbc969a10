#!/usr/bin/env bash
# Checks that an engine change changed no answer: builds REV (default: main's merge base
# with HEAD, or give a commit) in its own worktree and target directory, then runs the same
# jobs with both builds and compares their outputs byte for byte:
#   - `crossdock route` on N synthetic parcels (default 1 000 000) on the default synthetic book;
#   - `crossdock route` on 200 000 demo parcels with invalid rows, under three --today dates;
#   - `crossdock quote` on 50 000 demo requests mixing strategies, quote currencies, landed
#     cost and declared values (python3 writes them from a demo parcel file).
#
#   benches/same_answers.sh REV [N]
#
# Run it after any change to the engine's fast path or the JSON edge; exit 0 only when every
# output is identical. Everything goes under $CARGO_TARGET_DIR/same-answers.
set -euo pipefail

REV="${1:?usage: benches/same_answers.sh REV [N]}"
N="${2:-1000000}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$CARGO_TARGET_DIR/same-answers"
OLD_TREE="$WORK/tree"
# A separate target directory: two checkouts of one workspace sharing one can link each
# other's crates.
OLD_TARGET="$WORK/target"
mkdir -p "$WORK"
cd "$ROOT"

cargo build --release --quiet -p crossdock -p crossdock-bookgen -p crossdock-bulk
NEW="$CARGO_TARGET_DIR/release"
git worktree remove --force "$OLD_TREE" 2>/dev/null || true
git worktree add --detach --force "$OLD_TREE" "$REV" >/dev/null
trap 'git -C "$ROOT" worktree remove --force "$OLD_TREE" 2>/dev/null || true' EXIT
(cd "$OLD_TREE" && CARGO_TARGET_DIR="$OLD_TARGET" cargo build --release --quiet -p crossdock)
OLD="$OLD_TARGET/release"

BOOK="$WORK/synthetic"
[ -f "$BOOK/book.toml" ] || "$NEW/bookgen" synthetic "$BOOK" >/dev/null
[ -f "$WORK/synthetic-$N.parquet" ] || "$NEW/make_parcels" "$WORK/synthetic-$N.parquet" --n "$N" >/dev/null
[ -f "$WORK/demo.parquet" ] || "$NEW/make_parcels" "$WORK/demo.parquet" --n 200000 --book demo --invalid-every 1000 --seed 99 >/dev/null
[ -f "$WORK/demo.csv" ] || "$NEW/make_parcels" "$WORK/demo.csv" --n 50000 --book demo --seed 7 >/dev/null

status=0
same() {
    if cmp -s "$1" "$2"; then echo "same      $3 ($(wc -l <"$2") lines)"; else echo "DIFFERENT $3: $1 $2"; status=1; fi
}

for build in OLD NEW; do
    bin="${!build}/crossdock"
    "$bin" route --book "$BOOK" --in "$WORK/synthetic-$N.parquet" --out "$WORK/$build-synthetic.csv" --today 2026-11-24 2>/dev/null
    for day in 2026-01-15 2026-11-24 2027-06-30; do
        "$bin" route --book rate-tables/demo --in "$WORK/demo.parquet" --out "$WORK/$build-demo-$day.csv" --today "$day" 2>/dev/null
    done
done
same "$WORK/OLD-synthetic.csv" "$WORK/NEW-synthetic.csv" "route, $N synthetic parcels"
for day in 2026-01-15 2026-11-24 2027-06-30; do
    same "$WORK/OLD-demo-$day.csv" "$WORK/NEW-demo-$day.csv" "route, 200 000 demo parcels, --today $day"
done

python3 - "$WORK/demo.csv" "$WORK/requests.ndjson" <<'EOF'
import csv, json, sys
currencies = ["EUR", "USD", "JPY", "GBP", "CNY"]
with open(sys.argv[2], "w") as out:
    for i, r in enumerate(csv.DictReader(open(sys.argv[1]))):
        req = {"origin": {"country": r["origin_country"]}, "destination": {"country": r["dest_country"]},
               "parcel": {"weight_g": int(r["weight_g"])}, "currency": currencies[i % 5],
               "landed_cost": i % 2 == 0, "strategy": ["cheapest", "fastest", "best_value"][i % 3]}
        if i % 3 == 2:
            req["value_per_day"] = "0.50"
        if r.get("ship_date"):
            req["ship_date"] = r["ship_date"]
        if r.get("dest_postcode"):
            req["destination"]["postcode"] = r["dest_postcode"]
        for k in ("length_mm", "width_mm", "height_mm"):
            if r.get(k):
                req["parcel"][k] = int(r[k])
        if r.get("value_amount"):
            req["declared_value"] = {"amount": r["value_amount"], "currency": r["value_currency"]}
        for k in ("battery", "incoterm"):
            if r.get(k):
                req[k] = r[k]
        if r.get("goods"):
            req["goods"] = r["goods"].split(",")
        out.write(json.dumps(req) + "\n")
EOF
for build in OLD NEW; do
    "${!build}/crossdock" quote --book rate-tables/demo --today 2026-11-24 <"$WORK/requests.ndjson" >"$WORK/$build-quotes.ndjson"
done
same "$WORK/OLD-quotes.ndjson" "$WORK/NEW-quotes.ndjson" "quote, 50 000 demo requests"
exit $status
