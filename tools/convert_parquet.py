#!/usr/bin/env python3
"""Turns a Parquet file (as Hugging Face datasets store them) into JSONL, one row per line,
so that `omnirm data convert` can read it.

Usage:
    tools/convert_parquet.py IN.parquet OUT.jsonl [--columns a,b,c] [--batch-rows N]

Needs pyarrow (`pip install pyarrow`); the script says so and exits 2 when it is missing.
Rows are streamed batch by batch, so memory stays bounded whatever the file's size. Binary
columns (e.g. embedded image bytes) cannot go into JSON and are refused: export the media to
files and keep their paths instead.
"""

import argparse
import datetime
import decimal
import json
import os
import sys


def fail(message):
    print(f"convert_parquet: error: {message}", file=sys.stderr)
    sys.exit(2)


def plain(value, column):
    """A JSON-ready copy of one cell."""
    if isinstance(value, (bytes, bytearray)):
        fail(f"column '{column}' holds binary data; export the media to files and keep paths")
    if isinstance(value, dict):
        return {key: plain(item, column) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item, column) for item in value]
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def main():
    parser = argparse.ArgumentParser(description="Parquet to JSONL for omnirm data convert")
    parser.add_argument("input", help="a .parquet file")
    parser.add_argument("output", help="the .jsonl file to write")
    parser.add_argument("--columns", help="comma-separated columns to keep (default: all)")
    parser.add_argument("--batch-rows", type=int, default=4096, help="rows read at a time")
    args = parser.parse_args()

    try:
        import pyarrow.parquet as parquet
    except ImportError:
        fail("pyarrow is not installed; run `pip install pyarrow` and try again")

    if not os.path.isfile(args.input):
        fail(f"'{args.input}' is not a file; check the path")
    try:
        source = parquet.ParquetFile(args.input)
    except Exception as error:  # pyarrow raises several types for a bad file
        fail(f"'{args.input}' is not a readable Parquet file ({error})")
    columns = args.columns.split(",") if args.columns else None
    if columns:
        missing = [name for name in columns if name not in source.schema_arrow.names]
        if missing:
            fail(f"no column {', '.join(missing)} in '{args.input}'; it has "
                 f"{', '.join(source.schema_arrow.names)}")

    temporary = args.output + ".partial"
    rows = 0
    with open(temporary, "w", encoding="utf-8") as out:
        for batch in source.iter_batches(batch_size=args.batch_rows, columns=columns):
            for row in batch.to_pylist():
                record = {name: plain(value, name) for name, value in row.items()}
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                rows += 1
    os.replace(temporary, args.output)
    print(f"wrote {rows} rows from {args.input} to {args.output}")


if __name__ == "__main__":
    main()
