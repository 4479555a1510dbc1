"""Benchmark cases. Each returns Rows comparing a measured rate with a baseline from the same run."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.cases_checks import check_run_case
from benchmarks.harness import Row, stopwatch

IMPORT_TARGET = 0.5  # the import must reach at least half the rate of a plain bulk_create


@dataclass
class Context:
    """What every case is given: the engine, the sizes asked for, and the read data set once built."""

    engine: str
    rows: int
    scale: float
    reps: int
    data: Any = None


def generate_people(count: int, *, start: int, seed: int) -> list[dict[str, str]]:
    """Valid people with unique identity numbers: 360302 (安源区, 萍乡市) prefixes, household 萍乡市."""
    from beneficiaries.identity import make_id_number
    from beneficiaries.names import make_name

    rnd = random.Random(seed)
    people = []
    for i in range(start, start + count):
        # 500 order codes per birth date (men), so every generated number is distinct.
        birth = dt.date(1993, 1, 1) + dt.timedelta(days=i // 500)
        people.append(
            {
                "name": make_name(f"测试{rnd.choice('甲乙丙丁戊己庚辛壬癸')}", i),
                "id_number": make_id_number("360302", birth, i, "male"),
                "phone": f"138{i % 100_000_000:08d}",
                "region": "360300",
                "willing_to_work": "true",
                "groups": "lifted_out_of_poverty",
                "address": "萍乡市安源区",
            }
        )
    return people


def as_csv(people: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(people[0]))
    writer.writeheader()
    writer.writerows(people)
    return out.getvalue().encode("utf-8")


def plain_bulk_create(people: list[dict[str, str]]) -> None:
    """The baseline: the same rows as model instances (encrypted and masked, as the columns require)
    and their group memberships, plain bulk_create, no validation and no change entries."""
    from django.db import transaction
    from django.utils import timezone

    from beneficiaries.models import (
        ID_NUMBER_PURPOSE,
        PHONE_PURPOSE,
        Beneficiary,
        BeneficiaryGroup,
        GroupMembership,
    )
    from tracker.changelog.services import _BulkAllowed
    from tracker.pii import encrypt, keyed_hash, mask_id_number, mask_phone
    from tracker.regions.models import Region

    region = Region.objects.get(code="360300")
    objs = []
    for p in people:
        number = p["id_number"]
        objs.append(
            Beneficiary(
                name=p["name"],
                id_number_encrypted=encrypt(number, purpose=ID_NUMBER_PURPOSE),
                id_number_hash=keyed_hash(number, purpose=ID_NUMBER_PURPOSE),
                id_number_masked=mask_id_number(number),
                gender="male" if int(number[16]) % 2 else "female",
                birth_date=dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                phone_encrypted=encrypt(p["phone"], purpose=PHONE_PURPOSE),
                phone_hash=keyed_hash(p["phone"], purpose=PHONE_PURPOSE),
                phone_masked=mask_phone(p["phone"]),
                region=region,
                address=p["address"],
                willing_to_work=True,
                version=1,
            )
        )
    groups = {g.code: g for g in BeneficiaryGroup.objects.all()}
    today = timezone.localdate()
    with transaction.atomic(), _BulkAllowed():
        created = Beneficiary.objects.bulk_create(objs, batch_size=2000)
        memberships = [
            GroupMembership(beneficiary=obj, group=groups[code], valid_from=today, version=1)
            for obj, p in zip(created, people, strict=True)
            for code in p["groups"].split(",")
        ]
        GroupMembership.objects.bulk_create(memberships, batch_size=2000)


def peak_rss_mib() -> float:
    """Peak resident set size of this process (resource.getrusage), in MiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> float | None:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux: /proc/self/clear_refs, 5), so the
    next getrusage reports the peak of what runs after it, not the baseline's before it. Returns the
    RSS the mark starts from, or None where it cannot be reset."""
    import gc

    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return None
    return peak_rss_mib()


def beneficiary_import(ctx: Context) -> list[Row]:
    engine, rows = ctx.engine, ctx.rows
    from beneficiaries.imports import ImportRejected, beneficiaries_import
    from seeds.beneficiaries import seed_beneficiary_groups
    from tracker.changelog.context import Source, command_context

    with command_context("bench-setup", source=Source.SEED):
        seed_beneficiary_groups()

    # One import of all the rows (the real case: one file, one transaction), with the baseline split
    # in two halves run before and after it, so drift in machine load or table size touches both.
    half = rows // 2
    with stopwatch() as first:
        plain_bulk_create(generate_people(half, start=0, seed=1))
    content = as_csv(generate_people(rows, start=rows, seed=2))
    baseline_rss = reset_peak_rss()
    try:
        with command_context("bench", source=Source.IMPORT), stopwatch() as measured:
            result = beneficiaries_import(file=io.BytesIO(content), filename="bench.csv", scope_path="")
    except ImportRejected as exc:
        raise SystemExit(f"generated rows were refused: {exc.row_errors[:3]}") from exc
    import_peak_rss = peak_rss_mib()
    second_half = generate_people(rows - half, start=half, seed=1)
    with stopwatch() as second:
        plain_bulk_create(second_half)
    assert result.created == rows, result
    total = rows
    measured_seconds, baseline_seconds = measured(), first() + second()
    rate = rows / measured_seconds
    baseline_rate = rows / baseline_seconds
    ratio = rate / baseline_rate
    return [
        Row(
            case=f"beneficiary import {total:,} rows",
            engine=engine,
            measured=rate,
            baseline=baseline_rate,
            unit="rows/s",
            ratio=ratio,
            target=f">= {IMPORT_TARGET}",
            ok=ratio >= IMPORT_TARGET,
            detail={
                "seconds": measured_seconds,
                "baseline_seconds": baseline_seconds,
                # Peak resident memory of the process while the import ran (it holds the file and,
                # beside it, the baseline's generated rows); None where the peak cannot be reset.
                "import_peak_rss_mib": import_peak_rss if baseline_rss is not None else None,
                "rss_before_import_mib": baseline_rss,
            },
        )
    ]


def _reads(name: str) -> Callable[[Context], list[Row]]:
    def run(ctx: Context) -> list[Row]:
        from benchmarks import reads

        return getattr(reads, name)(ctx)

    return run


def _posts_subsidy_run(ctx: Context) -> list[Row]:
    from benchmarks.cases_posts import subsidy_run

    return subsidy_run(engine=ctx.engine, rows=ctx.rows)


def _report_overview(ctx: Context) -> list[Row]:
    from benchmarks.cases_reports import overview

    return overview(ctx)


def _full_seed(ctx: Context) -> list[Row]:
    from benchmarks.cases_seed import full_seed

    return full_seed(ctx)


ALL: dict[str, Callable[[Context], list[Row]]] = {
    "beneficiary_import": beneficiary_import,
    "reads": _reads("read_cases"),
    "scope_scaling": _reads("scope_scaling"),
    "exports": _reads("exports"),
    "verify": _reads("verify"),
    "post_subsidy_run": _posts_subsidy_run,
    "report_overview": _report_overview,
    "full_seed": _full_seed,
    "check_run": check_run_case,
}
