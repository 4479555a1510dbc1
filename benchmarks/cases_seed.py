"""Benchmark case of the seed (issue 13): `seed --scale S` into the suite's fresh database, every
published figure written as round(S × figure) records in bulk with their change entries. Target at
--scale 1.0: under 10 minutes on PostgreSQL. No baseline: the seed is the only way its records are
written (the figures step already uses the tracked bulk helpers a baseline would)."""

from __future__ import annotations

import io
from typing import Any

from benchmarks.harness import Row, stopwatch

SEED_TARGET_SECONDS = 600.0


def full_seed(ctx: Any) -> list[Row]:
    from django.core.management import call_command

    from beneficiaries.models import Beneficiary
    from tracker.changelog.models import ChangeEntry

    quiet = io.StringIO()  # the worker's stdout carries the result rows
    with stopwatch() as elapsed:
        call_command("seed", scale=ctx.scale, password="bench-pass-2021", stdout=quiet, stderr=quiet)
    seconds = elapsed()
    return [
        Row(
            case=f"seed --scale {ctx.scale:g} (every published figure)",
            engine=ctx.engine,
            measured=seconds,
            baseline=None,
            unit="s",
            ratio=None,
            target=f"< {SEED_TARGET_SECONDS:.0f} s",
            ok=seconds < SEED_TARGET_SECONDS,
            detail={"people": Beneficiary.objects.count(), "change_entries": ChangeEntry.objects.count()},
        )
    ]
