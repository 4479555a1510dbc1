"""Benchmark case of the public-welfare posts: a province-wide monthly subsidy run (issue 10: 10,000
assignments under 5 seconds on PostgreSQL), beside the plain bulk insert of the same payments.

The run (programs.posts.services.subsidy_run_create) reads the month's holdings, attendance,
assessments and the payments already made, decides every assignment, and writes through the
ledger's batch path: every payment rule set-based, the payments and their change entries in bulk,
and the run record. The baseline writes the same payments with a plain `bulk_create` (no rules, no
change entries) to a second program, half before the run and half after it, so drift in machine
load or table size touches both."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from benchmarks.harness import Row, stopwatch

RUN_TARGET_SECONDS = 5.0
ASSIGNMENTS = 10_000
MONTH = "2021-03"
JAN = dt.date(2021, 1, 1)
D = decimal.Decimal


def _setup(count: int) -> tuple[Any, Any, list[Any], Any]:
    """`count` holders of posts in the Wugongshan villages, with everything a full March needs, and
    a clerk of 江西省 to run the province; written in bulk (benchmark data, not the rules' test).
    Returns the clerk, the province, the holdings and the baseline's program."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from beneficiaries.models import Beneficiary, BeneficiaryGroup, GroupMembership, StatusChange
    from programs.funding.choices import PayeeKind, ProgramKind, Unit
    from programs.funding.models import FundSource, Program
    from programs.posts.models import Assignment, Attendance, Post
    from tracker.accounts.choices import Role
    from tracker.accounts.models import User
    from tracker.changelog.services import tracked_bulk_create
    from tracker.regions.models import Region

    province = Region.objects.get(code="360000")
    villages = list(Region.objects.filter(code__startswith="3603X19", level="village").order_by("code"))
    clerk = User.objects.create_user(username="bench_clerk", password="bench-pass-2021", region=province)
    clerk.groups.set(Group.objects.filter(name=Role.CLERK))
    group, _ = BeneficiaryGroup.objects.get_or_create(
        code="lifted_out_of_poverty", defaults={"name_zh": "脱贫人口", "name_en": "Lifted out of poverty"}
    )
    fund, _ = FundSource.objects.get_or_create(
        code="employment_subsidy_fund",
        defaults={"name_zh": "就业补助资金", "name_en": "Employment subsidy fund"},
    )
    programs = []
    for code in ("BENCH_POST_SUBSIDY", "BENCH_BASELINE"):
        program = Program(
            code=code,
            name_zh="公益性岗位补贴（基准）",
            name_en="Post subsidy (benchmark)",
            region=province,
            kind=ProgramKind.PUBLIC_WELFARE_POST,
            payee_kind=PayeeKind.PERSON,
            unit=Unit.PERSON_MONTH,
            standard_amount=D("600.00"),
            eligible_groups=["lifted_out_of_poverty"],
            required_employment_statuses=["public_welfare_post"],
            fund_source=fund,
        )
        program.save()
        programs.append(program)
    per_post = 100
    posts = [
        Post(
            region=villages[n % len(villages)],
            employing_unit="village_committee",
            category="cleaning",
            urban_rural="rural",
            title=f"基准保洁岗{n}",
            headcount=per_post,
            monthly_standard=D("600.00"),
            program=programs[0],
            opened_on=JAN,
            justification="基准数据",
        )
        for n in range((count + per_post - 1) // per_post)
    ]
    tracked_bulk_create(Post, posts)
    people = [
        Beneficiary(
            name="基准",
            id_number_encrypted=f"bench-{n}",
            id_number_hash=f"bench-hash-{n}",
            id_number_masked="360323********0000",
            gender="female",
            birth_date=dt.date(1970, 1, 1),
            region=posts[n // per_post].region,
        )
        for n in range(count)
    ]
    tracked_bulk_create(Beneficiary, people)
    tracked_bulk_create(
        GroupMembership, [GroupMembership(beneficiary=p, group=group, valid_from=JAN) for p in people]
    )
    tracked_bulk_create(
        StatusChange,
        [
            StatusChange(beneficiary=p, status="public_welfare_post", effective_on=JAN, source="visit")
            for p in people
        ],
    )
    holdings = [
        Assignment(
            post=posts[n // per_post],
            beneficiary=person,
            region_id=posts[n // per_post].region_id,
            start_date=JAN,
            contract_kind="labour_contract",
            contract_signed_on=JAN,
        )
        for n, person in enumerate(people)
    ]
    tracked_bulk_create(Assignment, holdings)
    now = timezone.now()
    tracked_bulk_create(
        Attendance,
        [
            Attendance(
                assignment=a,
                region_id=a.region_id,
                month=MONTH,
                days_required=23,
                days_present=23 - (n % 4 == 0),
                paid_leave_days=0,
                source="sign_in_sheet",
                recorded_by=clerk,
                recorded_at=now,
            )
            for n, a in enumerate(holdings)
        ],
    )
    return clerk, province, holdings, programs[1]


def _plain_payments(holdings: list[Any], program: Any, clerk: Any) -> None:
    """The baseline: the same payments (person, period, amount, cause) as plain rows of another
    program, one bulk_create, no rules and no change entries."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from programs.funding.models import Payment
    from programs.posts.models import Assignment
    from tracker.changelog.services import _BulkAllowed

    content_type = ContentType.objects.get_for_model(Assignment)
    now = timezone.now()
    rows = [
        Payment(
            program=program,
            payee_kind="person",
            beneficiary_id=a.beneficiary_id,
            region_id=a.region_id,
            region_path=a.region_path,
            period_start=dt.date(2021, 3, 1),
            period_end=dt.date(2021, 3, 31),
            application_date=now.date(),
            quantity=D(1),
            unit_amount=D("600.00"),
            amount=D("600.00"),
            fund_source_id=program.fund_source_id,
            status="submitted",
            created_by=clerk,
            submitted_by=clerk,
            submitted_at=now,
            cause_content_type=content_type,
            cause_object_id=str(a.pk),
            cause_label="posts.assignment.baseline",
            version=1,
        )
        for a in holdings
    ]
    with transaction.atomic(), _BulkAllowed():
        Payment.objects.bulk_create(rows, batch_size=2000)


def subsidy_run(*, engine: str, rows: int) -> list[Row]:
    """A province-wide run of `min(rows, 10,000)` assignments, timed, beside the plain insert."""
    from programs.posts.services import subsidy_run_create
    from tracker.changelog.context import Source, command_context

    count = min(rows, ASSIGNMENTS)
    with command_context("bench-setup", source=Source.SEED):
        clerk, province, holdings, baseline_program = _setup(count)
    half = count // 2
    with stopwatch() as first:
        _plain_payments(holdings[:half], baseline_program, clerk)
    with command_context("bench", source=Source.COMMAND), stopwatch() as measured:
        run = subsidy_run_create(actor=clerk, region=province, month=MONTH)
    with stopwatch() as second:
        _plain_payments(holdings[half:], baseline_program, clerk)
    if run.paid_count != count:
        raise SystemExit(f"the run paid {run.paid_count} of {count}: {run.skipped[:3]}")
    seconds, baseline = measured(), first() + second()
    on_target = engine != "postgresql" or seconds < RUN_TARGET_SECONDS
    return [
        Row(
            case=f"post subsidy run {count:,} assignments",
            engine=engine,
            measured=seconds,
            baseline=baseline,
            unit="s",
            ratio=seconds / baseline if baseline else 0.0,
            target=f"< {RUN_TARGET_SECONDS:g} s" if engine == "postgresql" else "report",
            ok=on_target,
            detail={
                "assignments": count,
                "payments": run.paid_count,
                "total": str(run.total),
                "run_rows_per_s": count / seconds if seconds else None,
                "baseline_rows_per_s": count / baseline if baseline else None,
            },
        )
    ]


__all__ = ["subsidy_run"]
