"""Seed step: fund sources, programs, employers, a training institution and example payments (post
subsidies excepted: the posts seed pays those through its subsidy runs).

Everything goes through programs.funding.services, so seeded records obey every rule and appear in
the change log (source `seed`); the people paid are chosen so that no rule refuses them (their
groups and employment status on the period's first day, the employer's size and industry, no
excluding payment). Idempotent: records are found by their natural keys (codes, USCC)
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
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from programs.funding import services
from programs.funding.choices import (
    LIVE_STATUSES,
    EmployerSize,
    Industry,
    PayeeKind,
    PaymentStatus,
    ProgramKind,
    Unit,
)
from programs.funding.models import Employer, FundSource, Payment, Program, TrainingInstitution
from programs.funding.rules import months_later
from seeds.data_files import load
from seeds.factories.funding import make_uscc
from tracker.accounts.models import User
from tracker.errors import Conflict
from tracker.regions.models import Region

SEED_CAUSE = "seed"

# Made-up employers (names are invented; USCC check characters are real). The large electronics
# firm in Guangzhou is in none of the industries Guangzhou's 以工代训 names for large enterprises
# and is no SME, so no program pays it; the catering SME and the large wholesaler are paid.
EMPLOYERS = [
    ("萍乡市安源区示例建材有限公司", "360300", 1, EmployerSize.SMALL, Industry.MANUFACTURING),
    ("武功山景区示例旅游服务有限公司", "3603X1", 2, EmployerSize.MICRO, Industry.CULTURE_TOURISM),
    ("梧州市示例食品有限公司", "450400", 3, EmployerSize.MEDIUM, Industry.MANUFACTURING),
    ("广州市示例电子科技有限公司", "440100", 4, EmployerSize.LARGE, Industry.MANUFACTURING),
    ("甘肃示例劳务服务有限公司", "620000", 5, EmployerSize.SMALL, Industry.HR_SERVICES),
    ("广州市示例餐饮管理有限公司", "440100", 6, EmployerSize.SMALL, Industry.ACCOMMODATION_CATERING),
    ("广州市示例商贸集团有限公司", "440100", 7, EmployerSize.LARGE, Industry.WHOLESALE_RETAIL),
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
MAX_SEEDED_PAYMENTS = 60
# A few people per program keeps the examples varied; one per status lets a region with a clerk and
# a reviewer show every status even when it has a single program. Where no one can review (the
# administrator would be clerk and reviewer), two per program show both unreviewed statuses.
PER_PROGRAM = len(STATUS_CYCLE)
PER_PROGRAM_UNREVIEWED = len(UNREVIEWED_CYCLE)
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
        **_condition_fields(item),
        "policy_reference": item.get("policy_reference") or "",
        "notes": (item.get("note") or "").strip(),
        "assumption": (item.get("assumption") or "").strip(),
    }


def _condition_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The optional rule conditions of a program (absent from the data file = no such condition)."""
    return {
        "required_employment_statuses": list(item.get("required_employment_statuses") or []),
        "employer_sizes": list(item.get("employer_sizes") or []),
        "employer_industries": list(item.get("employer_industries") or []),
        "excludes_prior_work_for_training": bool(item.get("excludes_prior_work_for_training")),
        "min_contract_months": item.get("min_contract_months"),
        "rural_posts_exclude_urban_insured": bool(item.get("rural_posts_exclude_urban_insured")),
    }


def seed_programs(admin: User, stdout: Any) -> int:
    from beneficiaries.models import BeneficiaryGroup

    items = load("programs.yaml")["programs"]
    known_groups = set(BeneficiaryGroup.objects.values_list("code", flat=True))
    created = 0
    for item in items:
        existing = Program.objects.filter(code=item["code"]).first()
        if existing is not None:
            # A database seeded before a condition was recorded gets it (through the service, logged).
            wanted = _condition_fields(item)
            changed = {k: v for k, v in wanted.items() if getattr(existing, k) != v}
            if changed:
                services.program_update(program=existing, actor=admin, fields=changed)
            continue
        missing = set(item.get("eligible_groups") or []) - known_groups
        if missing:
            stdout.write(
                _("  program %(code)s skipped: beneficiary groups not seeded yet: %(missing)s")
                % {"code": item["code"], "missing": ", ".join(sorted(missing))}
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
        existing = Employer.objects.filter(uscc=uscc).first()
        if existing is not None:
            if existing.industry != industry:
                # Seeded before industries were codes: record the code (through the service, logged).
                services.employer_update(employer=existing, actor=admin, fields={"industry": industry})
            continue
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
    """The day the seed enters a program's payments: today, or for a program whose deadlines have
    passed (the 2021 programs of the source document) its last open day: the application deadline
    (applications are received up to that day, inclusive), or without one the payment deadline. The
    seed replays the bureau's data entry of that time; every rule is checked as of that day, and the
    payment's application date is that day."""
    passed = [d for d in (program.application_deadline, program.payment_deadline) if d and d < today]
    return min(passed) if passed else today


def _window(program: Program, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The days a seeded period may start on: the program's validity; without a start, from the
    first day of the month the seed is entered (or of the validity's last month, when that has
    passed); without an end, for a year."""
    if program.valid_from:
        start = program.valid_from
    else:
        last = min(as_of, program.valid_to) if program.valid_to else as_of
        start = last.replace(day=1)
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


Span = tuple[dt.date, dt.date]


def _group_spans(program: Program, person: Any) -> list[Span]:
    """When the person is in one of the program's groups (always, for a program without groups)."""
    from beneficiaries.models import GroupMembership

    if not program.eligible_groups:
        return [(dt.date.min, dt.date.max)]
    memberships = GroupMembership.objects.filter(
        beneficiary=person, group__code__in=program.eligible_groups
    ).values_list("valid_from", "valid_to")
    return [(start, end or dt.date.max) for start, end in memberships]


def _status_spans(program: Program, person: Any) -> list[Span]:
    """When the person's employment status (from the registry's history: the latest change on or
    before a day) is one the program requires (always, for a program that requires none)."""
    from beneficiaries.models import StatusChange

    if not program.required_employment_statuses:
        return [(dt.date.min, dt.date.max)]
    changes = list(
        StatusChange.objects.filter(beneficiary=person)
        .order_by("effective_on", "id")
        .values_list("effective_on", "status")
    )
    spans: list[Span] = []
    for index, (start, status) in enumerate(changes):
        end = changes[index + 1][0] - dt.timedelta(days=1) if index + 1 < len(changes) else dt.date.max
        if status not in program.required_employment_statuses or start > end:
            continue
        if spans and spans[-1][1] + dt.timedelta(days=1) == start:
            spans[-1] = (spans[-1][0], end)  # a re-verification continues the same spell
        else:
            spans.append((start, end))
    return spans


def _eligible_from(program: Program, person: Any, window: Span) -> tuple[dt.date, Span] | None:
    """The first day in the window on which the person is in one of the program's groups and in a
    status it requires (the rules check the period's first day), with the status span it falls in;
    None when there is none. Works whatever day the seeded memberships and statuses start on."""
    best: tuple[dt.date, Span] | None = None
    for group_start, group_end in _group_spans(program, person):
        for status_span in _status_spans(program, person):
            day = max(window[0], group_start, status_span[0])
            if day <= min(window[1], group_end, status_span[1]) and (best is None or day < best[0]):
                best = (day, status_span)
    return best


def _taken(program: Program, person: Any) -> bool:
    """Whether the person already has a live payment the program's exclusions refuse (a mutually
    exclusive program, or another work-for-training program where it excludes people who had one):
    the seed pays someone else rather than ask for a refusal."""
    live = Payment.objects.filter(beneficiary=person, status__in=LIVE_STATUSES).exclude(program=program)
    exclusive = Q(program__code__in=program.mutually_exclusive_with or [])
    if program.excludes_prior_work_for_training:
        exclusive |= Q(program__kind=ProgramKind.WORK_FOR_TRAINING)
    return live.filter(exclusive).exists()


def _payee(program: Program) -> tuple[Employer | None, TrainingInstitution | None] | None:
    """The seeded organisation a program pays (the first within its region that its employer
    conditions accept), (None, None) for a program paying people, or None when there is none."""
    if program.payee_kind == PayeeKind.PERSON:
        return None, None
    if program.payee_kind == PayeeKind.INSTITUTION:
        institution = TrainingInstitution.objects.within(program.region.path).order_by("id").first()
        return (None, institution) if institution is not None else None
    for employer in Employer.objects.within(program.region.path).order_by("id"):
        sizes, industries = program.employer_sizes, program.employer_industries
        if (not sizes or employer.size in sizes) and (not industries or employer.industry in industries):
            return employer, None
    return None


def _contract(program: Program, status_span: Span, as_of: dt.date) -> dict[str, dt.date] | None:
    """For a program that needs a labour contract performed for N months: a contract that began
    when the person's current spell of employment began, performed for exactly those N months; None
    when those months have not passed by the day of entry (the seed does not invent the future)."""
    if program.min_contract_months is None:
        return {}
    start = status_span[0]
    performed_to = months_later(start, program.min_contract_months)
    if performed_to > as_of:
        return None
    return {"contract_start": start, "contract_performed_to": performed_to}


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
    """Payments to seeded people (and, for an employer or a training institution, for the person it
    employs or trains), through the real services, in every status: draft, submitted, approved,
    rejected, paid, reversed. Each payment is for someone its program's rules accept on the
    period's first day (groups, employment status, no excluding payment), so nothing seeded breaks
    a rule as of the day it is entered."""
    from beneficiaries.models import Beneficiary

    done = set(Payment.objects.filter(cause_label=SEED_CAUSE).values_list("cause_object_id", flat=True))
    if not Beneficiary.objects.exists():
        stdout.write(_("  no beneficiaries seeded yet: example payments skipped"))
        return 0
    today = timezone.localdate()
    programs = Program.objects.select_related("region").order_by("code")
    created = 0
    seeded = len(done)
    reviewed = unreviewed = 0
    for program in programs:
        if program.kind == ProgramKind.PUBLIC_WELFARE_POST:
            # Post subsidies are paid only to people who hold a post that month, by the monthly
            # subsidy run over their assignments (seeds/posts.py), never as free-standing payments.
            continue
        if program.standard_amount is None:
            continue  # no standard to pay by: the amount is decided case by case
        if program.payee_kind != PayeeKind.PERSON and not (
            program.eligible_groups or program.required_employment_statuses
        ):
            continue  # a grant to an organisation as such (a brand, a base): no one to pay it for
        payee = _payee(program)
        if payee is None:
            continue
        employer, institution = payee
        as_of = _as_of(program, today)
        window = _window(program, as_of)
        people = Beneficiary.objects.within(program.region.path).filter(active=True).order_by("id")
        per_program = {True: 0, False: 0}  # by "reviewed"
        for person in people[:200]:
            if per_program[True] >= PER_PROGRAM or per_program[False] >= PER_PROGRAM_UNREVIEWED:
                break
            if seeded >= MAX_SEEDED_PAYMENTS:
                return created
            path = Region.cached_path((employer or institution or person).region_id)
            # The region's demo clerk and reviewer where there are some; the administrator otherwise
            # (maker-checker: never both roles by the same account, so then the payment stays submitted).
            clerk = _clerk_for(path) or admin
            reviewer = _reviewer_for(path, admin)
            is_reviewed = reviewer != clerk
            cause_id = f"{program.code}:{person.pk}"
            if cause_id in done:
                per_program[is_reviewed] += 1
                continue
            if per_program[is_reviewed] >= (PER_PROGRAM if is_reviewed else PER_PROGRAM_UNREVIEWED):
                continue
            eligible = _eligible_from(program, person, window)
            if eligible is None or _taken(program, person):
                continue
            eligible_from, status_span = eligible
            contract = _contract(program, status_span, as_of)
            if contract is None:
                continue
            start, end, quantity = _period_and_quantity(program, eligible_from)
            if is_reviewed:
                target = STATUS_CYCLE[reviewed % len(STATUS_CYCLE)]
            else:
                target = UNREVIEWED_CYCLE[unreviewed % len(UNREVIEWED_CYCLE)]
            try:
                with transaction.atomic():
                    payment = services.payment_create(
                        actor=clerk,
                        program=program,
                        beneficiary=person,
                        employer=employer,
                        institution=institution,
                        period_start=start,
                        period_end=end,
                        quantity=quantity,
                        reason="示例发放（种子数据）",
                        cause=(SEED_CAUSE, cause_id),
                        today=as_of,
                        **contract,
                    )
                    _walk(payment, target, clerk, reviewer, as_of)
            except (ValidationError, PermissionDenied, Conflict) as exc:
                stdout.write(
                    _("  payment %(program)s to %(person)s skipped: %(why)s")
                    % {"program": program.code, "person": person.name, "why": exc}
                )
                continue
            if is_reviewed:
                reviewed += 1
            else:
                unreviewed += 1
            created += 1
            seeded += 1
            per_program[is_reviewed] += 1
    return created


def seed_funding(stdout: Any) -> None:
    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("id").first()
    if admin is None:
        stdout.write(_("Programs and payments: no administrator account; skipped."))
        return
    sources = seed_fund_sources(admin)
    programs = seed_programs(admin, stdout)
    payees = seed_payees(admin)
    payments = seed_payments(admin, stdout)
    stdout.write(
        _(
            "Programs and payments: %(sources)d fund sources, %(programs)d programs, %(payees)d payees, "
            "%(payments)d payments added."
        )
        % {"sources": sources, "programs": programs, "payees": payees, "payments": payments}
    )
