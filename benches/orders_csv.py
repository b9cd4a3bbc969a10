#!/usr/bin/env python3
"""Writes an orders CSV for the upload benchmarks: the server's template row ROWS times,
each under its own reference PREFIX-0000000, PREFIX-0000001, ...

Usage: benches/orders_csv.py TEMPLATE_CSV OUT_CSV ROWS PREFIX
(used by benches/orders_upload.sh and loadtest/scenarios.sh import)
"""
import sys

template, out_path, rows, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
header, row = open(template).read().splitlines()[:2]
rest = row.split(",", 1)[1]
with open(out_path, "w") as out:
    out.write(header + "\n")
    for i in range(rows):
        out.write(f"{prefix}-{i:07d},{rest}\n")
