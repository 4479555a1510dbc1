"""Seed step: fund sources, programs, employers, a training institution and example payments.

Everything goes through programs.funding.services, so seeded records obey every rule and appear in
the change log (source `seed`). Idempotent: records are found by their natural keys (codes, USCC)
and the example payments carry the cause ("seed", ...), so a second run adds nothing.
Deterministic: no randomness; people are taken in id order.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from programs.funding import services
from programs.funding.choices import EmployerSize, Industry, PayeeKind, PaymentStatus, Unit
from programs.funding.models import Employer, FundSource, Payment, Program, TrainingInstitution
from seeds.data_files import load
from seeds.factories.funding import make_uscc
from tracker.accounts.models import User
from tracker.errors import Conflict
from tracker.regions.models import Region

SEED_CAUSE = "seed"

# Made-up employers (names are invented; USCC check characters are real).
EMPLOYERS = [
    ("萍乡市安源区示例建材有限公司", "360300", 1, EmployerSize.SMALL, Industry.MANUFACTURING),
    ("武功山景区示例旅游服务有限公司", "3603X1", 2, EmployerSize.MICRO, Industry.CULTURE_TOURISM),
    ("梧州市示例食品有限公司", "450400", 3, EmployerSize.MEDIUM, Industry.MANUFACTURING),
    ("广州市示例电子科技有限公司", "440100", 4, EmployerSize.LARGE, Industry.MANUFACTURING),
    ("甘肃示例劳务服务有限公司", "620000", 5, EmployerSize.SMALL, Industry.HR_SERVICES),
]
INSTITUTIONS = [
    ("萍乡市示例职业技能培训学校", "360300", 1),
    ("甘肃示例职业培训中心", "620000", 2),
]
# The example payments walk through every status, in this order (where the region has a reviewer
# other than the creator; elsewhere they stop at submitted or draft).
STATUS_CYCLE = [
    PaymentStatus.PAID,
    PaymentStatus.REVERSED,
    PaymentStatus.APPROVED,
    PaymentStatus.REJECTED,
    PaymentStatus.SUBMITTED,
    PaymentStatus.DRAFT,
]
UNREVIEWED_CYCLE = [PaymentStatus.SUBMITTED, PaymentStatus.DRAFT]
MAX_SEEDED_PAYMENTS = 24
# A few people per program keeps the examples varied; one per status lets a region with a clerk and
# a reviewer show every status even when it has a single program.
PER_PROGRAM = len(STATUS_CYCLE)
# Without a validity end, people are looked for in the year from the program's first day.
SEARCH_DAYS = 366


def _money(value: Any) -> decimal.Decimal | None:
    return None if value in (None, "") else decimal.Decimal(str(value))


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def seed_fund_sources(admin: User) -> int:
    items = load("fund_sources.yaml")["fund_sources"]
    created = 0
    for item in items:
        if not FundSource.objects.filter(code=item["code"]).exists():
            services.fund_source_create(
                actor=admin,
                code=item["code"],
                name_zh=item["name_zh"],
                name_en=item["name_en"],
                note=(item.get("note") or "").strip(),
            )
            created += 1
    # Second pass: a fund that is a use of another one (both must exist first).
    for item in items:
        if item.get("part_of"):
            source = FundSource.objects.get(code=item["code"])
            if source.part_of_id is None:
                services.fund_source_update(
                    fund_source=source,
                    actor=admin,
                    fields={"part_of": FundSource.objects.get(code=item["part_of"])},
                )
    return created


def _program_fields(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": item["code"],
        "name_zh": item["name_zh"],
        "name_en": item["name_en"],
        "region": Region.objects.get(code=item["region"]),
        "kind": item["kind"],
        "payee_kind": item["payee_kind"],
        "fund_source": FundSource.objects.get(code=item["fund_source"]) if item.get("fund_source") else None,
        "unit": item["unit"],
        "standard_amount": _money(item.get("standard_amount")),
        "min_amount": _money(item.get("min_amount")),
        "max_amount": _money(item.get("max_amount")),
        "max_units": item.get("max_units"),
        "once_per_person": bool(item.get("once_per_person")),
        "eligible_groups": list(item.get("eligible_groups") or []),
        "valid_from": _date(item.get("valid_from")),
        "valid_to": _date(item.get("valid_to")),
        "application_deadline": _date(item.get("application_deadline")),
        "payment_deadline": _date(item.get("payment_deadline")),
        "annual_budget": _money(item.get("annual_budget")),
        "uplifts": {str(k): str(v) for k, v in (item.get("uplifts") or {}).items()},
        "policy_reference": item.get("policy_reference") or "",
        "notes": (item.get("note") or "").strip(),
        "assumption": (item.get("assumption") or "").strip(),
    }


def seed_programs(admin: User, stdout: Any) -> int:
    from beneficiaries.models import BeneficiaryGroup

    items = load("programs.yaml")["programs"]
    known_groups = set(BeneficiaryGroup.objects.values_list("code", flat=True))
    created = 0
    for item in items:
        if Program.objects.filter(code=item["code"]).exists():
            continue
        missing = set(item.get("eligible_groups") or []) - known_groups
        if missing:
            stdout.write(
                f"  program {item['code']} skipped: beneficiary groups not seeded yet: {sorted(missing)}"
            )
            continue
        services.program_create(actor=admin, fields=_program_fields(item))
        created += 1
    # Second pass: exclusions name programs on both sides, so all must exist first.
    for item in items:
        codes = list(item.get("mutually_exclusive_with") or [])
        program = Program.objects.filter(code=item["code"]).first()
        if program is None or not codes or program.mutually_exclusive_with == codes:
            continue
        if Program.objects.filter(code__in=codes).count() == len(set(codes)):
            services.program_update(program=program, actor=admin, fields={"mutually_exclusive_with": codes})
    return created


def seed_payees(admin: User) -> int:
    created = 0
    for name, region_code, serial, size, industry in EMPLOYERS:
        uscc = make_uscc(region_code if region_code.isdigit() else "360300", serial)
        if not Employer.objects.filter(uscc=uscc).exists():
            services.employer_create(
                actor=admin,
                name=name,
                uscc=uscc,
                region=Region.objects.get(code=region_code),
                size=size,
                industry=industry,
            )
            created += 1
    for name, region_code, serial in INSTITUTIONS:
        uscc = make_uscc(region_code, serial, kind="52")
        if not TrainingInstitution.objects.filter(uscc=uscc).exists():
            services.training_institution_create(
                actor=admin, name=name, uscc=uscc, region=Region.objects.get(code=region_code)
            )
            created += 1
    return created


def _as_of(program: Program, today: dt.date) -> dt.date:
    """The day the seed enters a program's payments: today, or for a program whose payment deadline
    has passed (the 2021 programs of the source document) its last open day, the deadline itself.
    The seed replays the bureau's data entry of that time; every rule is checked as of that day."""
    if program.payment_deadline and program.payment_deadline < today:
        return program.payment_deadline
    return today


def _window(program: Program, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The days a seeded period may start on: the program's validity, or without one the year from
    the first day of the month the seed is entered."""
    start = program.valid_from or as_of.replace(day=1)
    end = program.valid_to or start + dt.timedelta(days=SEARCH_DAYS - 1)
    return start, end


def _period_and_quantity(
    program: Program, eligible_from: dt.date
) -> tuple[dt.date, dt.date, decimal.Decimal]:
    """The period from the day the person is eligible to the end of that month (within the
    program's validity); a person-month is prorated by calendar days (2 places, half up)."""
    start = eligible_from
    if program.unit in (Unit.ONE_OFF, Unit.PER_TRAINING):
        return start, start, decimal.Decimal(1)
    days = calendar.monthrange(start.year, start.month)[1]
    end = start.replace(day=days)
    if program.valid_to and end > program.valid_to:
        end = program.valid_to
    covered = (end - start).days + 1
    if program.unit == Unit.PERSON_DAY:
        return start, end, decimal.Decimal(covered)
    quantity = (decimal.Decimal(covered) / days).quantize(
        decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP
    )
    return start, end, quantity


def _eligible_from(program: Program, person: Any, window: tuple[dt.date, dt.date]) -> dt.date | None:
    """The first day in the window on which the person is in one of the program's groups (the rule
    checks the period's first day), or None. Works whatever day the seeded memberships start on."""
    from beneficiaries.models import GroupMembership

    start, end = window
    if not program.eligible_groups:
        return start
    memberships = GroupMembership.objects.filter(
        beneficiary=person, group__code__in=program.eligible_groups, valid_from__lte=end
    ).order_by("valid_from", "id")
    for membership in memberships:
        day = max(start, membership.valid_from)
        if membership.valid_to is None or membership.valid_to >= day:
            return day
    return None


def _clerk_for(path: str) -> User | None:
    for user in (
        User.objects.filter(is_active=True, is_superuser=False).select_related("region").order_by("username")
    ):
        scope = user.scope_path
        if scope and path.startswith(scope) and user.has_role("clerk"):
            return user
    return None


def _reviewer_for(path: str, admin: User) -> User:
    for user in User.objects.filter(is_active=True, is_superuser=False).order_by("username"):
        scope = user.scope_path
        if scope and path.startswith(scope) and user.has_role("reviewer"):
            return user
    return admin


def _walk(payment: Payment, target: str, clerk: User, reviewer: User, as_of: dt.date) -> None:
    if target == PaymentStatus.DRAFT:
        return
    payment = services.payment_submit(payment=payment, actor=clerk, today=as_of)
    if target == PaymentStatus.SUBMITTED:
        return
    if target == PaymentStatus.REJECTED:
        services.payment_reject(payment=payment, actor=reviewer, reason="示例：材料不全，退回（种子数据）")
        return
    payment = services.payment_approve(payment=payment, actor=reviewer)
    if target == PaymentStatus.APPROVED:
        return
    payment = services.payment_mark_paid(
        payment=payment, actor=reviewer, external_reference=f"SEED-{payment.pk:06d}"
    )
    if target == PaymentStatus.REVERSED:
        services.payment_reverse(payment=payment, actor=reviewer, reason="示例：银行退回（种子数据）")


def seed_payments(admin: User, stdout: Any) -> int:
    """Payments to seeded people (and to a seeded employer for the person it employs), through the
    real services, in every status: draft, submitted, approved, rejected, paid, reversed."""
    from beneficiaries.models import Beneficiary

    done = set(Payment.objects.filter(cause_label=SEED_CAUSE).values_list("cause_object_id", flat=True))
    if not Beneficiary.objects.exists():
        stdout.write("  no beneficiaries seeded yet: example payments skipped")
        return 0
    today = timezone.localdate()
    programs = (
        Program.objects.filter(payee_kind__in=[PayeeKind.PERSON, PayeeKind.EMPLOYER])
        .select_related("region")
        .order_by("code")
    )
    created = 0
    seeded = len(done)
    reviewed = unreviewed = 0
    for program in programs:
        if program.standard_amount is None:
            continue  # no standard to pay by: the amount is decided case by case
        employer = None
        if program.payee_kind == PayeeKind.EMPLOYER:
            employer = Employer.objects.within(program.region.path).order_by("id").first()
            if employer is None:
                continue
        as_of = _as_of(program, today)
        window = _window(program, as_of)
        people = Beneficiary.objects.within(program.region.path).filter(active=True).order_by("id")
        per_program = 0
        for person in people[:200]:
            if per_program >= PER_PROGRAM:
                break
            if seeded >= MAX_SEEDED_PAYMENTS:
                return created
            cause_id = f"{program.code}:{person.pk}"
            if cause_id in done:
                per_program += 1
                continue
            eligible_from = _eligible_from(program, person, window)
            if eligible_from is None:
                continue
            start, end, quantity = _period_and_quantity(program, eligible_from)
            path = Region.cached_path((employer or person).region_id)
            # The region's demo clerk and reviewer where there are some; the administrator otherwise
            # (maker-checker: never both roles by the same account, so then the payment stays submitted).
            clerk = _clerk_for(path) or admin
            reviewer = _reviewer_for(path, admin)
            if reviewer == clerk:
                target = UNREVIEWED_CYCLE[unreviewed % len(UNREVIEWED_CYCLE)]
            else:
                target = STATUS_CYCLE[reviewed % len(STATUS_CYCLE)]
            try:
                with transaction.atomic():
                    payment = services.payment_create(
                        actor=clerk,
                        program=program,
                        beneficiary=person,
                        employer=employer,
                        period_start=start,
                        period_end=end,
                        quantity=quantity,
                        reason="示例发放（种子数据）",
                        cause=(SEED_CAUSE, cause_id),
                        today=as_of,
                    )
                    _walk(payment, target, clerk, reviewer, as_of)
            except (ValidationError, PermissionDenied, Conflict) as exc:
                stdout.write(f"  payment {program.code} -> #{person.pk} skipped: {exc}")
                continue
            if reviewer == clerk:
                unreviewed += 1
            else:
                reviewed += 1
            created += 1
            seeded += 1
            per_program += 1
    return created


def seed_funding(stdout: Any) -> None:
    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if admin is None:
        stdout.write("funding: no administrator account; skipped")
        return
    sources = seed_fund_sources(admin)
    programs = seed_programs(admin, stdout)
    payees = seed_payees(admin)
    payments = seed_payments(admin, stdout)
    stdout.write(
        f"funding: {sources} fund sources, {programs} programs, {payees} payees, {payments} payments added"
    )
