#!/usr/bin/env bash
# Seeds the fuzz corpora from a demo book (default: rate-tables/demo of this repository).
#
#   engine/tables/fuzz/seed.sh [DEMO_DIR]
#
# corpus/parquet_table/NN-<table>: the selector byte NN (the table's index among the Parquet
# files of crossdock_tables::BOOK_FILES, the order below) followed by the table's bytes.
# corpus/book_toml/demo: the demo's book.toml.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
demo="${1:-$here/../../../rate-tables/demo}"

# The Parquet files of BOOK_FILES (engine/tables/src/lib.rs), in order: keep them in step.
tables=(services zones rates surcharges restrictions prices fx customs duty_rates segments)

mkdir -p "$here/corpus/parquet_table" "$here/corpus/book_toml"
for i in "${!tables[@]}"; do
    table="${tables[$i]}"
    file="$demo/$table.parquet"
    if [[ ! -f "$file" ]]; then
        echo "seed.sh: $file is missing" >&2
        exit 1
    fi
    out="$here/corpus/parquet_table/$(printf '%02d' "$i")-$table"
    { printf "\\x$(printf '%02x' "$i")"; cat "$file"; } > "$out"
done
cp "$demo/book.toml" "$here/corpus/book_toml/demo"
echo "seeded $(ls "$here/corpus/parquet_table" | wc -l) tables and book.toml from $demo"
