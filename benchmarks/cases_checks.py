"""Benchmark case of the compliance checks (issue 12: a province with 100,000 beneficiaries and
1,000,000 payments checked in under 30 seconds on PostgreSQL): a check run over a province, beside
the same rules written by hand as SQL and run in the same process (one SELECT per rule, no
findings written).

The data: `people` holders of posts in the Wugongshan villages (江西省), each paid ten months of post
subsidy caused by their holding, with attendance for the months; one in a hundred holders without
a contract, one in a hundred paid for a month after leaving, one in a hundred paid for a month
without attendance. Written with plain bulk inserts (benchmark data, not the rules' test). The
default scale keeps `make bench` short (--scale 0.1: 2,000 people, 20,000 payments); --scale 5
reaches the issue's 100,000 people and 1,000,000 payments."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from benchmarks.harness import Row, stopwatch

TARGET_SECONDS = 30.0
FULL_PEOPLE = 100_000
PEOPLE_PER_SCALE = 20_000
MONTHS = 10
JAN = dt.date(2021, 1, 1)
D = decimal.Decimal
RULES = ["POST_NO_CONTRACT", "SUBSIDY_WITHOUT_ATTENDANCE", "SUBSIDY_AFTER_EXIT", "SUBSIDY_OVER_STANDARD"]


def _month(n: int) -> tuple[dt.date, dt.date, str]:
    first = dt.date(2021, n + 1, 1)
    last = (dt.date(2021, n + 2, 1) if n + 2 <= 12 else dt.date(2022, 1, 1)) - dt.timedelta(days=1)
    return first, last, f"2021-{n + 1:02d}"


def _setup(people: int) -> tuple[Any, Any]:
    """Returns an inspector of 江西省 and the province."""
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone

    from beneficiaries.models import Beneficiary
    from programs.funding.choices import PayeeKind, ProgramKind, Unit
    from programs.funding.models import FundSource, Payment, Program
    from programs.posts.models import Assignment, Attendance, Post
    from tracker.accounts.choices import Role
    from tracker.accounts.models import User
    from tracker.changelog.services import _BulkAllowed
    from tracker.regions.models import Region

    province = Region.objects.get(code="360000")
    villages = list(Region.objects.filter(code__startswith="3603X19", level="village").order_by("code"))
    inspector = User.objects.create_user(
        username="bench_inspector", password="bench-pass-2021", region=province
    )
    inspector.groups.set(Group.objects.filter(name=Role.INSPECTOR))
    fund, _ = FundSource.objects.get_or_create(
        code="employment_subsidy_fund",
        defaults={"name_zh": "就业补助资金", "name_en": "Employment subsidy fund"},
    )
    now = timezone.now()
    with transaction.atomic(), _BulkAllowed():
        program = Program(
            code="BENCH_CHECK_POSTS",
            name_zh="公益性岗位补贴（检查基准）",
            name_en="Post subsidy (checks benchmark)",
            region=province,
            kind=ProgramKind.PUBLIC_WELFARE_POST,
            payee_kind=PayeeKind.PERSON,
            unit=Unit.PERSON_MONTH,
            standard_amount=D("600.00"),
            max_amount=D("600.00"),
            fund_source=fund,
            version=1,
        )
        Program.objects.bulk_create([program])
        per_post = 50
        posts = Post.objects.bulk_create(
            [
                Post(
                    region=villages[n % len(villages)],
                    region_path=villages[n % len(villages)].path,
                    employing_unit="village_committee",
                    category="cleaning",
                    urban_rural="rural",
                    title=f"检查基准岗{n}",
                    headcount=per_post,
                    monthly_standard=D("600.00"),
                    program=program,
                    opened_on=JAN,
                    justification="基准数据",
                    version=1,
                )
                for n in range((people + per_post - 1) // per_post)
            ],
            batch_size=2000,
        )
        persons = Beneficiary.objects.bulk_create(
            [
                Beneficiary(
                    name=f"基准{n}",
                    id_number_encrypted=f"check-bench-{n}",
                    id_number_hash=f"check-bench-hash-{n}",
                    id_number_masked="360323********0000",
                    gender="female",
                    birth_date=dt.date(1970, 1, 1) + dt.timedelta(days=n % 9000),
                    region=posts[n // per_post].region,
                    region_path=posts[n // per_post].region.path,
                    version=1,
                )
                for n in range(people)
            ],
            batch_size=2000,
        )
        holdings = Assignment.objects.bulk_create(
            [
                Assignment(
                    post=posts[n // per_post],
                    beneficiary=person,
                    region_id=posts[n // per_post].region_id,
                    region_path=posts[n // per_post].region_path,
                    start_date=JAN,
                    # One in a hundred left at the end of August (paid for September and October).
                    end_date=dt.date(2021, 8, 31) if n % 100 == 7 else None,
                    end_reason="resigned" if n % 100 == 7 else "",
                    contract_kind="" if n % 100 == 3 else "labour_contract",
                    contract_signed_on=None if n % 100 == 3 else JAN,
                    version=1,
                )
                for n, person in enumerate(persons)
            ],
            batch_size=2000,
        )
        attendance = []
        payments = []
        content_type = ContentType.objects.get_for_model(Assignment)
        for n, holding in enumerate(holdings):
            for m in range(MONTHS):
                first, last, key = _month(m)
                if not (n % 100 == 11 and m == 4):
                    attendance.append(
                        Attendance(
                            assignment=holding,
                            region_id=holding.region_id,
                            region_path=holding.region_path,
                            month=key,
                            days_required=21,
                            days_present=21,
                            source="sign_in_sheet",
                            recorded_by=inspector,
                            recorded_at=now,
                            version=1,
                        )
                    )
                payments.append(
                    Payment(
                        program=program,
                        payee_kind="person",
                        beneficiary_id=holding.beneficiary_id,
                        region_id=holding.region_id,
                        region_path=holding.region_path,
                        period_start=first,
                        period_end=last,
                        application_date=last,
                        quantity=D(1),
                        unit_amount=D("600.00"),
                        amount=D("600.00"),
                        fund_source_id=fund.pk,
                        status="paid",
                        created_by=inspector,
                        paid_at=now,
                        cause_content_type=content_type,
                        cause_object_id=str(holding.pk),
                        cause_label="posts.assignment",
                        version=1,
                    )
                )
        Attendance.objects.bulk_create(attendance, batch_size=5000)
        Payment.objects.bulk_create(payments, batch_size=5000)
    from tracker.planner import analyze

    analyze()
    return inspector, province


def _month_key_sql(vendor: str, column: str) -> str:
    return f"to_char({column}, 'YYYY-MM')" if vendor == "postgresql" else f"strftime('%%Y-%%m', {column})"


def hand_written(path: str) -> dict[str, int]:
    """The same rules as an expert would write them in SQL, one SELECT each; violations per rule."""
    from django.db import connection

    live = "('submitted', 'approved', 'paid')"
    month = _month_key_sql(connection.vendor, "p.period_start")
    queries = {
        "POST_NO_CONTRACT": """
            SELECT a.id FROM posts_assignment a
            WHERE a.region_path LIKE %s AND a.contract_signed_on IS NULL
              AND a.start_date <= %s AND (a.end_date IS NULL OR a.end_date >= %s)""",
        "SUBSIDY_WITHOUT_ATTENDANCE": f"""
            SELECT p.id FROM funding_payment p
            WHERE p.region_path LIKE %s AND p.cause_label = 'posts.assignment' AND p.status IN {live}
              AND p.period_start <= %s AND p.period_end >= %s
              AND NOT EXISTS (SELECT 1 FROM posts_attendance t
                              WHERE CAST(t.assignment_id AS TEXT) = p.cause_object_id AND t.month = {month})""",
        "SUBSIDY_AFTER_EXIT": f"""
            SELECT p.id FROM funding_payment p JOIN posts_assignment a ON CAST(a.id AS TEXT) = p.cause_object_id
            WHERE p.region_path LIKE %s AND p.cause_label = 'posts.assignment' AND p.status IN {live}
              AND p.period_start <= %s AND p.period_end >= %s
              AND a.end_date IS NOT NULL AND p.period_end > a.end_date""",
        "SUBSIDY_OVER_STANDARD": f"""
            SELECT p.id FROM funding_payment p JOIN funding_program g ON g.id = p.program_id
            LEFT JOIN posts_assignment a ON p.cause_label = 'posts.assignment' AND CAST(a.id AS TEXT) = p.cause_object_id
            LEFT JOIN posts_post s ON s.id = a.post_id
            WHERE p.region_path LIKE %s AND p.status IN {live}
              AND p.period_start <= %s AND p.period_end >= %s
              AND ((g.max_amount IS NOT NULL AND p.unit_amount > g.max_amount)
                   OR (s.monthly_standard IS NOT NULL AND p.unit_amount > s.monthly_standard))""",
    }
    found = {}
    with connection.cursor() as cursor:
        for code, sql in queries.items():
            cursor.execute(sql, [path + "%", dt.date(2021, 12, 31), JAN])
            found[code] = len(cursor.fetchall())
    return found


def check_run(*, engine: str, scale: float) -> list[Row]:
    """A province's check run of the posts and payment rules over `20,000 × scale` people with ten
    months of payments each, timed, beside the hand-written SQL of the same rules."""
    from programs.inspections.checks import check_run_create
    from tracker.changelog.context import Source, command_context

    people = max(500, int(PEOPLE_PER_SCALE * scale))
    with command_context("bench-setup", source=Source.SEED):
        inspector, province = _setup(people)
    with stopwatch() as first:
        expected = hand_written(province.path)
    with command_context("bench", source=Source.COMMAND), stopwatch() as measured:
        run = check_run_create(
            actor=inspector, region=province, period_start=JAN, period_end=dt.date(2021, 12, 31), rules=RULES
        )
    with stopwatch() as second:
        hand_written(province.path)
    # Every registered rule over the same province (a second run: the posts rules' findings exist).
    with command_context("bench", source=Source.COMMAND), stopwatch() as every:
        everything = check_run_create(
            actor=inspector, region=province, period_start=JAN, period_end=dt.date(2021, 12, 31)
        )
    counts = {code: result["violations"] for code, result in run.results.items()}
    if counts != expected:
        raise SystemExit(f"the run found {counts}, the hand-written SQL {expected}")
    seconds, baseline = measured(), (first() + second()) / 2
    full = people >= FULL_PEOPLE
    return [
        Row(
            case=f"check run {people:,} people, {people * MONTHS:,} payments",
            engine=engine,
            measured=seconds,
            baseline=baseline,
            unit="s",
            ratio=seconds / baseline if baseline else 0.0,
            target=f"< {TARGET_SECONDS:g} s" if engine == "postgresql" and full else "report",
            ok=not (engine == "postgresql" and full) or seconds < TARGET_SECONDS,
            detail={
                "people": people,
                "payments": people * MONTHS,
                "violations": counts,
                "all_rules_seconds": round(every(), 3),
                "all_rules": len(everything.rules),
                "findings": run.opened,
            },
        )
    ]


def check_run_case(ctx: Any) -> list[Row]:
    return check_run(engine=ctx.engine, scale=ctx.scale)


__all__ = ["check_run", "check_run_case"]
