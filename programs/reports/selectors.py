"""Reports as data: which region a caller may report on, and every section registered for a report
computed for it (tracker.reporting holds the registry). Everything here reads from the replica when
there is one (`tracker.db_routers.read_from_replica`): a report is a snapshot.

Queries per report: the region and its children (2), then each section's own constant number, and
one per label table a section names (groups, programs, fund sources, voucher types) — the same
whatever the number of records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tracker.db_routers import read_from_replica
from tracker.regions.models import Region
from tracker.reporting import (
    REGION,
    ReportScope,
    ReportSection,
    Rows,
    report_names,
    report_order,
    report_sections,
    report_title,
    section_totals,
)


@dataclass(frozen=True)
class Place:
    code: str | None
    name: str


@dataclass
class SectionResult:
    section: ReportSection
    totals: Rows
    breakdown: Rows
    # column key -> {code: label} for the "code" columns, limited to the codes the rows hold
    labels: dict[str, dict[Any, str]] = field(default_factory=dict)


@dataclass
class ReportResult:
    name: str
    title: str
    scope: ReportScope
    region: Place
    children: list[Place]
    # the region's ancestors within the caller's scope, from the top (the dashboard's trail)
    trail: list[Place]
    sections: list[SectionResult]


def catalogue() -> list[tuple[str, str]]:
    """(name, title) of every report, in the issue's order."""
    return [
        (name, str(report_title(name))) for name in sorted(report_names(), key=lambda n: (report_order(n), n))
    ]


def region_name(zh: str, en: str) -> str:
    return en if (get_language() or "").startswith("en") and en else zh


def itself_label() -> str:
    return _("The region itself")


def total_label(region: str) -> str:
    return _("%(region)s (total)") % {"region": region}


def report_region(user: Any, code: str | None) -> Region:
    """The region a report covers: `code`, else the caller's home region (the root for a superuser
    without one). A region the caller cannot see is 404, as any record outside their scope; one they
    see but may not report on (an ancestor of their home region, shown to place it) is 403."""
    scope = getattr(user, "scope_path", None)
    if scope is None:
        raise PermissionDenied(_("You have no region to report on."))
    if code is None:
        region = getattr(user, "region", None)
        if region is None:
            region = Region.objects.filter(parent__isnull=True).order_by("path").first()
        if region is None:
            raise Http404(_("No region."))
        return region
    region = Region.objects.visible_to(user).filter(code=code).first()
    if region is None:
        raise Http404(_("No region with this code in your scope."))
    if not region.path.startswith(scope):
        raise PermissionDenied(_("The region lies outside your scope; report on your region or below."))
    return region


def report_scope(
    *,
    user: Any,
    region: Region,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    as_of: dt.date | None = None,
) -> tuple[ReportScope, list[Place]]:
    children = list(
        Region.objects.filter(parent=region)
        .order_by("code")
        .values_list("code", "path", "name_zh", "name_en")
    )
    scope = ReportScope(
        user=user,
        region=region,
        children=tuple((code, path) for code, path, _zh, _en in children),
        date_from=date_from,
        date_to=date_to,
        as_of=as_of,
    )
    return scope, [Place(code, region_name(zh, en)) for code, _path, zh, en in children]


def _trail(user: Any, region: Region) -> list[Place]:
    scope = getattr(user, "scope_path", "") or ""
    codes = [c for c in region.path.split("/") if c]
    visible = {
        code: region_name(zh, en)
        for code, path, zh, en in Region.objects.filter(code__in=codes).values_list(
            "code", "path", "name_zh", "name_en"
        )
        if path.startswith(scope)
    }
    return [Place(code, visible[code]) for code in codes if code in visible]


def _sort_key(order: dict[str | None, int], section: ReportSection) -> Any:
    dims = [c.key for c in section.dimensions]

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return (
            order.get(row.get(REGION), len(order)),
            *((row.get(k) is None, str(row.get(k) or "")) for k in dims),
        )

    return key


def compute_section(
    section: ReportSection, scope: ReportScope, order: dict[str | None, int]
) -> SectionResult:
    breakdown = section.rows(scope)
    breakdown.sort(key=_sort_key(order, section))
    totals = section_totals(section, breakdown)
    totals.sort(key=_sort_key({}, section))
    labels: dict[str, dict[Any, str]] = {}
    for column in section.dimensions:
        if column.kind == "code":
            present = {row.get(column.key) for row in breakdown}
            known = column.labels() if column.labels else {}
            labels[column.key] = {code: str(known.get(code, code)) for code in present if code is not None}
    return SectionResult(section=section, totals=totals, breakdown=breakdown, labels=labels)


def report_data(
    name: str,
    *,
    user: Any,
    code: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    as_of: dt.date | None = None,
    keys: set[str] | None = None,
) -> ReportResult:
    """Report `name` for `user` within region `code` (default: their home region): every section
    registered for it, totals and breakdown by child region. Unknown report: 404."""
    if name not in report_names():
        raise Http404(_("No report of this name."))
    with read_from_replica():
        region = report_region(user, code)
        scope, children = report_scope(
            user=user, region=region, date_from=date_from, date_to=date_to, as_of=as_of
        )
        order: dict[str | None, int] = {None: 0}
        order.update({child.code: n for n, child in enumerate(children, 1)})
        sections = [
            compute_section(section, scope, order)
            for section in report_sections(name)
            if keys is None or section.key in keys
        ]
        trail = _trail(user, region)
    return ReportResult(
        name=name,
        title=str(report_title(name)),
        scope=scope,
        region=Place(region.code, region_name(region.name_zh, region.name_en)),
        children=children,
        trail=trail,
        sections=sections,
    )
