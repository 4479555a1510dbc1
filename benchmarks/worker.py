"""Child process of `python -m benchmarks`: one engine, a fresh database, the selected cases.
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
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--reps", type=int, default=21)
    parser.add_argument("--only", default="")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # The API and the hand-written baselines side by side (benchmarks/urls.py).
    settings.ROOT_URLCONF = "benchmarks.urls"

    from benchmarks import cases
    from seeds.accounts import seed_roles
    from seeds.reference import seed_regions
    from tracker.changelog.context import Source, command_context

    engine = os.environ["BENCH_ENGINE"]
    call_command("migrate", verbosity=0)
    with command_context("bench-setup", source=Source.SEED):
        seed_regions()
        seed_roles()
    selected = [c for c in args.only.split(",") if c] or list(cases.ALL)
    context = cases.Context(engine=engine, rows=args.rows, scale=args.scale, reps=args.reps)
    rows = []
    for name in selected:
        print(f"[{engine}] {name} ...", file=sys.stderr, flush=True)
        rows.extend(cases.ALL[name](context))
    print(json.dumps([asdict(r) for r in rows], ensure_ascii=False))


if __name__ == "__main__":
    main()
