"""`python -m benchmarks [--rows N] [--only CASE]`: every case on SQLite, and on PostgreSQL when
DATABASE_URL points at one; prints a table of ratios against same-run baselines and writes JSON under
benchmarks/results/."""

from __future__ import annotations

import argparse

from benchmarks.harness import engine_urls, print_table, run_engine, write_results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--rows", type=int, default=100_000, help="rows for the import benchmark")
    parser.add_argument("--only", default="", help="comma-separated case names")
    args = parser.parse_args()
    worker_args = ["--rows", str(args.rows), "--only", args.only]
    rows = []
    for engine, url in engine_urls().items():
        print(f"== {engine} ==", flush=True)
        rows.extend(run_engine(engine, url, worker_args))
    print()
    print_table(rows)
    print(f"\nresults written to {write_results(rows)}")


if __name__ == "__main__":
    main()
