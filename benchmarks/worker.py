"""Child process of `python -m benchmarks`: one engine, a fresh database, every selected case.
Prints progress on stderr and the result rows as one JSON line on stdout."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", default="")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from benchmarks import cases
    from seeds.accounts import seed_roles
    from seeds.reference import seed_regions
    from tracker.changelog.context import Source, command_context

    engine = os.environ["BENCH_ENGINE"]
    call_command("migrate", verbosity=0)
    with command_context("bench-setup", source=Source.SEED):
        seed_regions()
        seed_roles()
    selected = {c for c in args.only.split(",") if c}
    rows = []
    for name, case in cases.ALL.items():
        if selected and name not in selected:
            continue
        print(f"[{engine}] {name} ...", file=sys.stderr, flush=True)
        rows.extend(case(engine=engine, rows=args.rows))
    print(json.dumps([asdict(r) for r in rows], ensure_ascii=False))


if __name__ == "__main__":
    main()
