"""Reads over programs and payments that are more than a filter: budgets, and the payments section of
the one-person-one-file view."""

from __future__ import annotations

import datetime as dt
import decimal
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone

from programs.funding.choices import (
    BUDGET_STATUSES,
    COMMITTED_STATUSES,
    LIVE_STATUSES,
    PaymentStatus,
    ProgramKind,
)
from programs.funding.models import Payment, Program
from programs.funding.rules import OtherPayment, PaymentFacts, budget_year
from tracker.regions.models import Region, designations_for_paths
from tracker.scope import path_within, user_scope
from tracker.statements import read_by_id

# Rows per IN (...) list: well under SQLite's variable limit, so a batch of any size costs a
# constant number of queries per chunk.
CHUNK = 5000

ZERO = decimal.Decimal("0.00")


def program_budget_year_default(program: Program) -> int:
    """The year a budget is shown for when none is asked: the program's first year if it has a
    validity, otherwise the current year."""
    if program.valid_from:
        return program.valid_from.year
    return timezone.localdate().year


def program_budget(*, program: Program, year: int | None = None, user: Any = None) -> dict[str, Any]:
    """Budget, committed (submitted + approved), paid, reversed and remaining for one year of a
    program (payments count in the year their period starts). One aggregate query.

    With a `user` whose region does not cover the program's issuing region (a city clerk looking at a
    provincial or national program), the figures are those of the payments the user can see and
    `remaining` is None: the program's spending elsewhere is outside their scope, and the remaining
    amount would reveal it."""
    year = year or program_budget_year_default(program)
    span = budget_year(dt.date(year, 1, 1))
    payments = Payment.objects.all()
    whole = True
    if user is not None:
        whole = path_within(program.region.path, user_scope(user))
        if not whole:
            payments = payments.visible_to(user)
    totals = payments.filter(program_id=program.pk, period_start__range=(span.start, span.end)).aggregate(
        committed=Sum("amount", filter=Q(status__in=COMMITTED_STATUSES)),
        paid=Sum("amount", filter=Q(status=PaymentStatus.PAID)),
        reversed=Sum("amount", filter=Q(status=PaymentStatus.REVERSED)),
    )
    committed = totals["committed"] or ZERO
    paid = totals["paid"] or ZERO
    reversed_ = totals["reversed"] or ZERO
    budget = program.annual_budget
    return {
        "program": program.code,
        "year": year,
        "budget": budget,
        "committed": committed,
        "paid": paid,
        "reversed": reversed_,
        "remaining": None if budget is None or not whole else budget - committed - paid,
    }


def payments_for_list() -> QuerySet[Payment]:
    """Payments with everything a list or export renders, in a constant number of queries."""
    return Payment.objects.select_related(
        "program",
        "fund_source",
        "beneficiary",
        "employer",
        "institution",
        "region",
        "created_by",
        "submitted_by",
        "approved_by",
        "paid_by",
        "cause_content_type",
        "reversal",
    )


def payments_for_file(beneficiary: Any, user: Any) -> list[dict[str, Any]]:
    """The "subsidies received" section of a person's file: every payment to them or for them,
    newest first (one query, through its compiled statement), amounts as strings."""
    rows = read_by_id(
        ("file.payments", user_scope(user)),
        lambda pk: (
            Payment.objects.visible_to(user)
            .filter(beneficiary_id=pk)
            .order_by("-period_start", "-id")
            .values(
                "id",
                "program__code",
                "program__name_zh",
                "payee_kind",
                "period_start",
                "period_end",
                "quantity",
                "amount",
                "fund_source__code",
                "status",
                "paid_at",
            )[:500]
        ),
        beneficiary.pk,
    )
    return [
        {
            "id": p["id"],
            "program": p["program__code"],
            "program_name": p["program__name_zh"],
            "payee_kind": p["payee_kind"],
            "period_start": p["period_start"].isoformat(),
            "period_end": p["period_end"].isoformat(),
            "quantity": str(p["quantity"]),
            "amount": str(p["amount"]),
            "fund_source": p["fund_source__code"],
            "status": p["status"],
            "paid_at": p["paid_at"].isoformat() if p["paid_at"] else None,
        }
        for p in rows
    ]


# -- what the payment rules need, for a whole batch ----------------------------------------------------


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _subject(payment: Payment) -> tuple[str, int]:
    """Whom the per-person rules count a payment against: the person it is for, or without one the
    organisation paid."""
    if payment.beneficiary_id is not None:
        return ("person", payment.beneficiary_id)
    if payment.employer_id is not None:
        return ("employer", payment.employer_id)
    return ("institution", payment.institution_id)


def _statuses_by_person(payments: Sequence[Payment]) -> dict[int, list[tuple[dt.date, int, str]]]:
    """Each person's status changes up to the latest period start among their payments, as
    (effective_on, id, status) in order: one query per chunk of people, whatever the batch size."""
    from beneficiaries.models import StatusChange

    latest: dict[int, dt.date] = {}
    for payment in payments:
        if payment.beneficiary_id is not None:
            day = latest.get(payment.beneficiary_id)
            latest[payment.beneficiary_id] = max(day, payment.period_start) if day else payment.period_start
    changes: dict[int, list[tuple[dt.date, int, str]]] = defaultdict(list)
    if not latest:
        return changes
    until = max(latest.values())
    for chunk in _chunks(sorted(latest)):
        rows = (
            StatusChange.objects.filter(beneficiary_id__in=chunk, effective_on__lte=until)
            .order_by("beneficiary_id", "effective_on", "id")
            .values_list("beneficiary_id", "effective_on", "id", "status")
        )
        for person_id, effective_on, pk, status in rows:
            changes[person_id].append((effective_on, pk, status))
    return changes


def status_on(changes: Sequence[tuple[dt.date, int, str]], day: dt.date) -> str:
    """The status in force on a day: the latest change effective on or before it (by effective date,
    then order of recording), as beneficiaries.selectors.status_change_on decides; '' before the
    first one."""
    status = ""
    for effective_on, _pk, value in changes:
        if effective_on > day:
            break
        status = value
    return status


def payment_payee_region_id(payment: Payment) -> int | None:
    payee = payment.payee
    return payee.region_id if payee is not None else None


def payment_facts(
    payments: Sequence[Payment], programs: dict[int, Program], *, budget: bool = False
) -> list[PaymentFacts]:
    """The facts the rules need for each payment, in a constant number of queries whatever the
    batch size: region paths, designations, group memberships, employment status histories (for
    programs that require a status), the live payments of the same programs for the same people,
    of the programs they exclude and of other work-for-training programs (for programs that exclude
    people who already had it), and the budget already used.

    Payments within the batch do not see each other here; the service adds each accepted one to the
    facts of those after it."""
    from beneficiaries.models import GroupMembership

    Region.cache_paths(payment_payee_region_id(p) for p in payments)
    paths = [
        Region.cached_path(region_id) if (region_id := payment_payee_region_id(p)) is not None else ""
        for p in payments
    ]
    designations = designations_for_paths(paths)

    person_ids = sorted({p.beneficiary_id for p in payments if p.beneficiary_id is not None})
    memberships: dict[int, list[tuple[str, dt.date, dt.date | None]]] = defaultdict(list)
    for chunk in _chunks(person_ids):
        for person_id, code, start, end in GroupMembership.objects.filter(
            beneficiary_id__in=chunk
        ).values_list("beneficiary_id", "group__code", "valid_from", "valid_to"):
            memberships[person_id].append((code, start, end))

    program_ids = sorted(programs)
    by_kind: dict[str, set[int]] = defaultdict(set)
    for payment in payments:
        kind, subject_id = _subject(payment)
        by_kind[kind].add(subject_id)
    others: dict[tuple[int, str, int], list[OtherPayment]] = defaultdict(list)
    columns = ("pk", "program_id", "program__code", "beneficiary_id", "employer_id", "institution_id")
    columns += ("quantity", "period_start", "period_end")
    conditions = [
        ("person", "beneficiary_id__in", Q()),
        ("employer", "employer_id__in", Q(beneficiary__isnull=True)),
        ("institution", "institution_id__in", Q(beneficiary__isnull=True)),
    ]
    for kind, lookup, extra in conditions:
        for chunk in _chunks(sorted(by_kind.get(kind, ()))):
            rows = Payment.objects.filter(
                extra, program_id__in=program_ids, status__in=LIVE_STATUSES, **{lookup: chunk}
            ).values_list(*columns)
            for pk, program_id, code, person_id, employer_id, institution_id, *rest in rows:
                subject = {"person": person_id, "employer": employer_id, "institution": institution_id}
                others[(program_id, kind, subject[kind])].append(OtherPayment(pk, code, *rest))

    exclusive_codes = {
        code for program in programs.values() for code in program.mutually_exclusive_with or ()
    }
    exclusive: dict[int, list[OtherPayment]] = defaultdict(list)
    if exclusive_codes and person_ids:
        for chunk in _chunks(person_ids):
            rows = Payment.objects.filter(
                program__code__in=exclusive_codes, status__in=LIVE_STATUSES, beneficiary_id__in=chunk
            ).values_list("pk", "program__code", "beneficiary_id", "quantity", "period_start", "period_end")
            for pk, code, person_id, quantity, start, end in rows:
                exclusive[person_id].append(OtherPayment(pk, code, quantity, start, end))

    statuses = _statuses_by_person(
        [p for p in payments if programs[p.program_id].required_employment_statuses]
    )

    prior: dict[int, list[OtherPayment]] = defaultdict(list)
    wft_people = sorted(
        {
            p.beneficiary_id
            for p in payments
            if p.beneficiary_id is not None and programs[p.program_id].excludes_prior_work_for_training
        }
    )
    for chunk in _chunks(wft_people):
        rows = Payment.objects.filter(
            program__kind=ProgramKind.WORK_FOR_TRAINING, status__in=LIVE_STATUSES, beneficiary_id__in=chunk
        ).values_list("pk", "program__code", "beneficiary_id", "quantity", "period_start", "period_end")
        for pk, code, person_id, quantity, start, end in rows:
            prior[person_id].append(OtherPayment(pk, code, quantity, start, end))

    used: dict[tuple[int, int], decimal.Decimal] = {}
    if budget:
        budgeted = [pk for pk, program in programs.items() if program.annual_budget is not None]
        if budgeted:
            rows = (
                Payment.objects.filter(program_id__in=budgeted, status__in=BUDGET_STATUSES)
                .exclude(pk__in=[p.pk for p in payments if p.pk is not None])
                .annotate(year=ExtractYear("period_start"))
                .values_list("program_id", "year")
                .annotate(total=Sum("amount"))
            )
            used = {(program_id, year): total for program_id, year, total in rows}

    facts = []
    for payment, path in zip(payments, paths, strict=True):
        program = programs[payment.program_id]
        kind, subject_id = _subject(payment)
        codes: frozenset[str] = frozenset()
        if payment.beneficiary_id is not None:
            on = payment.period_start
            codes = frozenset(
                code
                for code, start, end in memberships.get(payment.beneficiary_id, ())
                if start <= on and (end is None or end >= on)
            )
        facts.append(
            PaymentFacts(
                payee_path=path,
                designations=designations[path],
                group_codes=codes,
                others=[o for o in others.get((program.pk, kind, subject_id), ()) if o.pk != payment.pk],
                exclusive=[
                    o
                    for o in exclusive.get(payment.beneficiary_id, ())
                    if o.program_code in set(program.mutually_exclusive_with or ()) and o.pk != payment.pk
                ],
                status_on_start=(
                    status_on(statuses.get(payment.beneficiary_id, ()), payment.period_start)
                    if program.required_employment_statuses and payment.beneficiary_id is not None
                    else ""
                ),
                prior_work_for_training=(
                    [
                        o
                        for o in prior.get(payment.beneficiary_id, ())
                        if o.program_code != program.code and o.pk != payment.pk
                    ]
                    if program.excludes_prior_work_for_training
                    else []
                ),
                budget_used=(
                    used.get((program.pk, payment.period_start.year), decimal.Decimal(0))
                    if budget and program.annual_budget is not None
                    else None
                ),
            )
        )
    return facts
