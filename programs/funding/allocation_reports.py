"""Report section: money allocated to programs (资金拨付) vs committed vs paid, by program and child
region. Two grouped queries (allocations; payments of the programs allocated to), whatever the size."""

from __future__ import annotations

import decimal
from typing import Any

from django.db.models import Q, Sum
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from programs.funding.allocations import PAID_STATUSES
from programs.funding.choices import COMMITTED_STATUSES
from programs.funding.models import Allocation, Payment, Program
from tracker.reporting import REGION, Column, ReportScope, Rows, rate, register_report_section

ZERO = decimal.Decimal("0.00")


def program_labels() -> dict[str, str]:
    english = (get_language() or "").startswith("en")
    return {
        code: (en if english else zh)
        for code, zh, en in Program.objects.values_list("code", "name_zh", "name_en")
    }


def allocation_rows(scope: ReportScope) -> Rows:
    allocations = (
        scope.restrict(Allocation.objects.all())
        .filter(scope.in_period("allocated_on"))
        .annotate(**{REGION: scope.child_region("region__path")})
        .order_by()
        .values(REGION, "program__code")
        .annotate(allocated=Sum("amount"))
    )
    rows: dict[tuple[Any, str], dict[str, Any]] = {}
    for row in allocations:
        if row["program__code"] is None:
            continue  # the zero row SQL answers for a constant grouping over nothing
        key = (row[REGION], row["program__code"])
        rows[key] = {
            REGION: row[REGION],
            "program": row["program__code"],
            "allocated": row["allocated"] or ZERO,
        }
    programs = {code for _region, code in rows}
    if programs:
        payments = (
            scope.restrict(Payment.objects.all())
            .filter(scope.in_period("period_start"), program__code__in=programs)
            .annotate(**{REGION: scope.child_region("region_path")})
            .order_by()
            .values(REGION, "program__code")
            .annotate(
                committed=Sum("amount", filter=Q(status__in=COMMITTED_STATUSES)),
                paid=Sum("amount", filter=Q(status__in=PAID_STATUSES)),
            )
        )
        for row in payments:
            if row["program__code"] is None:
                continue
            key = (row[REGION], row["program__code"])
            target = rows.setdefault(
                key, {REGION: row[REGION], "program": row["program__code"], "allocated": ZERO}
            )
            target["committed"] = row["committed"] or ZERO
            target["paid"] = row["paid"] or ZERO
    out = []
    for row in rows.values():
        row.setdefault("committed", ZERO)
        row.setdefault("paid", ZERO)
        row["paid_rate"] = rate(row["paid"], row["allocated"])
        out.append(row)
    return sorted(out, key=lambda r: (r[REGION] or "", r["program"]))


ALLOCATION_COLUMNS = (
    Column("program", _("Program"), kind="code", labels=program_labels),
    Column("allocated", _("Allocated (拨付)"), kind="money"),
    Column("committed", _("Committed (submitted or approved)"), kind="money"),
    Column("paid", _("Paid (net of reversals)"), kind="money"),
    Column("paid_rate", _("Paid share of allocated"), kind="rate", rate_of=("paid", "allocated")),
)


def register_sections() -> None:
    for report, order in (("overview", 60), ("payments", 50)):
        register_report_section(
            report,
            "allocations",
            _("Allocations: allocated, committed and paid"),
            columns=ALLOCATION_COLUMNS,
            rows=allocation_rows,
            order=order,
            notes=_(
                "A program's budget is what was allocated to it; payments count by the period they pay for."
            ),
        )
