"""Reads over programs and payments that are more than a filter: budgets, and the payments section of
the one-person-one-file view."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from programs.funding.choices import COMMITTED_STATUSES, PaymentStatus
from programs.funding.models import Payment, Program
from programs.funding.rules import budget_year

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
        scope = getattr(user, "scope_path", None)
        whole = scope is not None and program.region.path.startswith(scope)
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
    newest first (one query), amounts as strings."""
    rows = (
        Payment.objects.visible_to(user)
        .filter(beneficiary=beneficiary)
        .select_related("program", "fund_source")
        .order_by("-period_start", "-id")[:500]
    )
    return [
        {
            "id": p.pk,
            "program": p.program.code,
            "program_name": p.program.name_zh,
            "payee_kind": p.payee_kind,
            "period_start": p.period_start.isoformat(),
            "period_end": p.period_end.isoformat(),
            "quantity": str(p.quantity),
            "amount": str(p.amount),
            "fund_source": p.fund_source.code if p.fund_source_id else None,
            "status": p.status,
            "paid_at": p.paid_at.isoformat() if p.paid_at else None,
        }
        for p in rows
    ]
