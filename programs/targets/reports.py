"""Report section: targets against the figures achieved (programs.targets.selectors), one row per
target; the rate is achieved ÷ target. Queries: one for the targets, one per measure present."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from programs.targets.choices import Measure
from programs.targets.models import Target
from programs.targets.selectors import achieved_for
from tracker.reporting import REGION, Column, ReportScope, Rows, rate, register_report_section


def target_rows(scope: ReportScope) -> Rows:
    targets = scope.restrict(Target.objects.select_related("region")).annotate(
        **{REGION: scope.child_region("region__path")}
    )
    if scope.date_from is not None:
        targets = targets.filter(year__gte=scope.date_from.year)
    if scope.date_to is not None:
        targets = targets.filter(year__lte=scope.date_to.year)
    targets = list(targets.order_by("region__path", "year", "measure"))
    achieved = achieved_for(targets)
    return [
        {
            REGION: getattr(t, REGION),
            "year": str(t.year),
            "measure": t.measure,
            "assumed": t.assumed,
            "target": t.figure,
            "achieved": achieved.get(t.pk, 0),
            "rate": rate(achieved.get(t.pk, 0), t.figure),
        }
        for t in targets
    ]


COLUMNS = (
    Column("year", _("Year"), kind="text"),
    Column("measure", _("Measure"), kind="code", labels=lambda: dict(Measure.choices)),
    Column(
        "assumed",
        _("Target assumed"),
        kind="code",
        labels=lambda: {True: _("Assumed (not printed)"), False: _("As printed")},
    ),
    Column("target", _("Target")),
    Column("achieved", _("Achieved")),
    Column("rate", _("Achieved share of target"), kind="rate", rate_of=("achieved", "target")),
)


def register_sections() -> None:
    for report, order in (("overview", 70), ("employment", 30), ("vouchers", 90)):
        register_report_section(
            report,
            "targets",
            _("Targets and achievement"),
            columns=COLUMNS,
            rows=target_rows,
            order=order,
            notes=_(
                "Achieved figures are counted from the records; an assumed target is one the source implies but does not print."
            ),
        )
