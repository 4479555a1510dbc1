"""`python -m benchmarks [--scale S] [--rows N] [--only CASE,...] [--reps R]`: every case on SQLite, and
on PostgreSQL when DATABASE_URL points at one; prints a table (measured, baseline, ratio, target,
PASS/MISS, and for each MISS what limits it) and writes JSON under benchmarks/results/.

Suites run in a fresh database each: `import` (the beneficiary import), `reads` (the read path
against hand-written views, scope scaling, exports and verify, on data of the issue's scale times
--scale), `writes` (the programs' batch writes: the posts' monthly subsidy run), `reports` (the
whole-country overview), `checks` (a province's compliance check run) and `seed` (the seed of every
published figure at --scale)."""

from __future__ import annotations

import argparse

from benchmarks.harness import engine_urls, engine_versions, print_table, run_engine, write_results

SUITES = {
    "import": ["beneficiary_import"],
    # scope_scaling last: it trims and copies payments (the data set is no longer valid for verify).
    "reads": ["reads", "exports", "verify", "scope_scaling"],
    # The programs' batch writes, each against plain bulk writes of the same rows.
    "writes": ["post_subsidy_run"],
    "reports": ["report_overview"],
    # The compliance checks over a province against the same rules as hand-written SQL.
    "checks": ["check_run"],
    # The seed of every published figure at --scale (issue 13: under 10 minutes at 1.0 on PostgreSQL).
    "seed": ["full_seed"],
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--rows", type=int, default=100_000, help="rows for the import benchmark")
    parser.add_argument(
        "--scale",
        type=float,
        default=0.1,
        help="size of the read data set against the issue's (1.0: 110,000 people, 200,000 payments, "
        "~420,000 change entries)",
    )
    parser.add_argument("--reps", type=int, default=21, help="A/B request pairs timed per read case")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated case names: " + ", ".join(name for names in SUITES.values() for name in names),
    )
    parser.add_argument("--engine", default="", help="sqlite or postgresql (default: every one available)")
    args = parser.parse_args()
    only = {c for c in args.only.split(",") if c}
    rows = []
    for engine, url in engine_urls().items():
        if args.engine and engine != args.engine:
            continue
        for suite, names in SUITES.items():
            selected = [n for n in names if not only or n in only]
            if not selected:
                continue
            print(f"== {engine}: {suite} ==", flush=True)
            worker_args = [
                "--rows",
                str(args.rows),
                "--scale",
                str(args.scale),
                "--reps",
                str(args.reps),
                "--only",
                ",".join(selected),
            ]
            rows.extend(run_engine(engine, url, worker_args))
    print()
    print_table(rows)
    extra = {"scale": args.scale, "reps": args.reps, "engines": engine_versions()}
    print(f"\nengines: {extra['engines']}")
    print(f"results written to {write_results(rows, extra)}")


if __name__ == "__main__":
    main()
