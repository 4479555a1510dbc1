"""The findings sections of the audit reports (tracker.reporting): per child region, findings open,
overdue, rectified (awaiting verification), verified and waived, and the sampled payments with the
confirmation rate. Two aggregate queries whatever the region's size; registered for the "overview"
and the "findings" reports."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from programs.inspections.choices import NOT_RECTIFIED_STATUSES, FindingStatus, Received
from programs.inspections.models import Confirmation, Finding
from tracker.reporting import REGION, Column, ReportScope, rate, register_report_section

COLUMNS = (
    Column("open", _("Findings open")),
    Column("overdue", _("Findings overdue")),
    Column("rectified", _("Findings rectified, awaiting verification")),
    Column("verified", _("Findings verified")),
    Column("waived", _("Findings waived")),
    Column("sampled", _("Payments sampled for confirmation")),
    Column("reached", _("People reached")),
    Column("confirmed", _("Confirmed received in full")),
    Column("discrepancies", _("Discrepancies")),
    Column("confirmation_rate", _("Confirmation rate"), kind="rate", rate_of=("confirmed", "sampled")),
)
FIGURES = [c.key for c in COLUMNS if c.kind != "rate"]
STILL_OPEN = (
    FindingStatus.OPEN,
    FindingStatus.RECTIFYING,
    FindingStatus.REOPENED,
    FindingStatus.NO_LONGER_REPRODUCES,
)


def findings_rows(scope: ReportScope) -> list[dict[str, Any]]:
    """Findings opened in the period (all, without one) by child region, and the confirmations of
    payments for periods starting in it."""
    today = scope.as_of or scope.date_to or timezone.localdate()
    findings = (
        scope.restrict(Finding.objects.all())
        .filter(scope.in_period("opened_at__date"))
        .annotate(**{REGION: scope.child_region("region_path")})
        .order_by()
        .values(REGION)
        .annotate(
            open=Count("pk", filter=Q(status__in=STILL_OPEN)),
            overdue=Count("pk", filter=Q(status__in=NOT_RECTIFIED_STATUSES, due_on__lt=today)),
            rectified=Count("pk", filter=Q(status=FindingStatus.RECTIFIED)),
            verified=Count("pk", filter=Q(status=FindingStatus.VERIFIED)),
            waived=Count("pk", filter=Q(status=FindingStatus.WAIVED)),
        )
    )
    confirmations = (
        scope.restrict(Confirmation.objects.all())
        .filter(scope.in_period("payment__period_start"))
        .annotate(**{REGION: scope.child_region("region_path")})
        .order_by()
        .values(REGION)
        .annotate(
            sampled=Count("pk"),
            n_reached=Count("pk", filter=Q(reached=True)),
            n_confirmed=Count("pk", filter=Q(reached=True, received=Received.YES, finding__isnull=True)),
            discrepancies=Count("pk", filter=Q(finding__isnull=False)),
        )
    )
    rows: dict[Any, dict[str, Any]] = {}
    for row in [*findings, *confirmations]:
        merged = rows.setdefault(row[REGION], {REGION: row[REGION], **dict.fromkeys(FIGURES, 0)})
        merged.update({k.removeprefix("n_"): v for k, v in row.items() if k != REGION})
    for row in rows.values():
        row["confirmation_rate"] = rate(row["confirmed"], row["sampled"])
    return sorted(rows.values(), key=lambda r: (r[REGION] is None, r[REGION] or ""))


def register() -> None:
    for report, order in (("overview", 80), ("findings", 10)):
        register_report_section(
            report,
            "findings",
            _("Findings and payment confirmation"),
            columns=COLUMNS,
            rows=findings_rows,
            order=order,
            notes=_(
                "Overdue: past due and not rectified. Confirmation rate: sampled payments the person "
                "confirmed receiving in full."
            ),
        )
