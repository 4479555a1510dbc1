"""Reads of the inspections app beyond a filter: what the posts data says for each item of an
inspection (pre-fill, constant queries), overdue findings, the population a confirmation sample is
drawn from, and the inspection report's rows."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from programs.funding.choices import PayeeKind, PaymentStatus
from programs.funding.models import Payment
from programs.inspections.choices import (
    NOT_RECTIFIED_STATUSES,
    ChecklistItem,
    ItemCode,
    ItemLevel,
    ItemResult,
    VillageItem,
)
from programs.inspections.models import Finding, Inspection
from programs.posts.models import AssessmentStandard, Assignment, Post
from programs.posts.selectors import held_between, inspection_findings
from tracker.periods import Month
from tracker.regions.choices import RegionLevel
from tracker.regions.models import Region
from tracker.scope import ancestor_paths


def due_days() -> int:
    """Days an inspector gives for a rectification unless they name a date (FINDING_DUE_DAYS)."""
    return int(getattr(settings, "FINDING_DUE_DAYS", 30))


def overdue_q(today: dt.date | None = None) -> Q:
    """Overdue = past due and not rectified."""
    today = today or timezone.localdate()
    return Q(due_on__lt=today, status__in=NOT_RECTIFIED_STATUSES)


def overdue_findings(queryset: QuerySet[Finding], today: dt.date | None = None) -> QuerySet[Finding]:
    return queryset.filter(overdue_q(today))


# -- pre-fill --------------------------------------------------------------------------------------


def _village_of(path: str, villages: dict[str, Region]) -> Region | None:
    """The village a post's region lies in (the post's own region when it is a village)."""
    for village_path, village in villages.items():
        if path.startswith(village_path):
            return village
    return None


def prefill_items(inspection: Inspection) -> list[dict[str, Any]]:
    """Every item of the inspection as the data says it, with the evidence it used: per post
    (post_setting, personnel_changes), per holder (labor_contract_signing, attendance_assessment,
    subsidy_payment, and the on-duty check, which only a visit can answer), per village (the
    post-management mechanism and current assessment standards). A constant number of queries."""
    region = inspection.region
    first, last = Month.parse(inspection.first_month), Month.parse(inspection.last_month)
    start, end = first.first_day, last.last_day
    village_qs = Region.objects.filter(path__startswith=region.path, level=RegionLevel.VILLAGE)
    if region.level == RegionLevel.VILLAGE:
        village_qs = Region.objects.filter(pk=region.pk)
    if inspection.villages:
        village_qs = village_qs.filter(code__in=inspection.villages)
    villages = {v.path: v for v in village_qs.order_by("path")}
    posts = Post.objects.within(region.path).filter(opened_on__lte=end).exclude(closed_on__lt=start)
    if inspection.posts:
        posts = posts.filter(pk__in=inspection.posts)
    post_rows = list(
        posts.order_by("region_path", "id").values("pk", "region_path", "title", "justification")
    )
    post_village: dict[int, Region] = {}
    for row in post_rows:
        village = _village_of(row["region_path"], villages)
        if village is not None:
            post_village[row["pk"]] = village
    holdings = list(
        Assignment.objects.filter(held_between(start, end), post_id__in=list(post_village))
        .order_by("post_id", "start_date", "id")
        .values("pk", "post_id", "beneficiary__name", "start_date", "end_date", "contract_signed_on")
    )
    found = inspection_findings(region_path=region.path, first=first, last=last)
    by_post: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    by_holding: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for code, problems in found.items():
        for problem in problems:
            if "assignment" in problem and code != ChecklistItem.PERSONNEL_CHANGES:
                by_holding[(code, problem["assignment"])].append(problem)
            elif "post" in problem:
                by_post[(code, problem["post"])].append(problem)
    standards = list(
        AssessmentStandard.objects.filter(effective_from__lte=end).values_list("region__path", "title")
    )

    def result(problems: list[dict[str, Any]]) -> str:
        return ItemResult.FAILED if problems else ItemResult.PASSED

    items: list[dict[str, Any]] = []
    for village in villages.values():
        in_village = [row for row in post_rows if post_village.get(row["pk"]) is village]
        for row in in_village:
            setting = by_post[(ChecklistItem.POST_SETTING, row["pk"])]
            items.append(
                {
                    "region": village,
                    "code": ItemCode.POST_SETTING,
                    "level": ItemLevel.POST,
                    "post_id": row["pk"],
                    "prefilled": result(setting),
                    "evidence": setting or [{"post": row["pk"], "justification": row["justification"]}],
                }
            )
            changes = by_post[(ChecklistItem.PERSONNEL_CHANGES, row["pk"])]
            items.append(
                {
                    "region": village,
                    "code": ItemCode.PERSONNEL_CHANGES,
                    "level": ItemLevel.POST,
                    "post_id": row["pk"],
                    "prefilled": result(changes),
                    "evidence": changes,
                }
            )
            for holding in (h for h in holdings if h["post_id"] == row["pk"]):
                for code in (
                    ChecklistItem.LABOR_CONTRACT_SIGNING,
                    ChecklistItem.ATTENDANCE_ASSESSMENT,
                    ChecklistItem.SUBSIDY_PAYMENT,
                ):
                    problems = by_holding[(code, holding["pk"])]
                    evidence = problems
                    if code == ChecklistItem.LABOR_CONTRACT_SIGNING and not problems:
                        evidence = [{"contract_signed_on": holding["contract_signed_on"].isoformat()}]
                    items.append(
                        {
                            "region": village,
                            "code": code,
                            "level": ItemLevel.HOLDER,
                            "post_id": row["pk"],
                            "assignment_id": holding["pk"],
                            "prefilled": result(problems),
                            "evidence": evidence,
                        }
                    )
                items.append(
                    {
                        "region": village,
                        "code": ItemCode.ON_DUTY,
                        "level": ItemLevel.HOLDER,
                        "post_id": row["pk"],
                        "assignment_id": holding["pk"],
                        # Only a visit answers it (在岗履职): present, interviewed, the inspector's note.
                        "prefilled": ItemResult.PENDING,
                        "evidence": [
                            {
                                "holder": holding["beneficiary__name"],
                                "start_date": holding["start_date"].isoformat(),
                                "end_date": holding["end_date"].isoformat() if holding["end_date"] else None,
                            }
                        ],
                    }
                )
        applying = [
            {"standard": title, "region_path": path}
            for path, title in standards
            if path in {*ancestor_paths(village.path), village.path}
        ]
        items.append(
            {
                "region": village,
                "code": VillageItem.ASSESSMENT_STANDARDS,
                "level": ItemLevel.VILLAGE,
                "prefilled": ItemResult.PASSED if applying else ItemResult.FAILED,
                "evidence": applying or [{"problem": "no_assessment_standard"}],
            }
        )
        items.append(
            {
                "region": village,
                "code": VillageItem.MANAGEMENT_MECHANISM,
                "level": ItemLevel.VILLAGE,
                # The data cannot tell whether the village has a mechanism: the inspector reviews it.
                "prefilled": ItemResult.PENDING,
                "evidence": [{"posts": len(in_village)}],
            }
        )
    return items


# -- confirmation samples --------------------------------------------------------------------------


def sample_population(
    *,
    region_path: str,
    period_start: dt.date,
    period_end: dt.date,
    program_id: int | None,
    paid_by: dt.datetime,
) -> list[int]:
    """Ids of the payments to people paid by `paid_by` for a period overlapping the sample's, in id
    order (a reversed payment was paid, so it stays in the population)."""
    queryset = Payment.objects.within(region_path).filter(
        payee_kind=PayeeKind.PERSON,
        status__in=(PaymentStatus.PAID, PaymentStatus.REVERSED),
        paid_at__lte=paid_by,
        period_start__lte=period_end,
        period_end__gte=period_start,
    )
    if program_id is not None:
        queryset = queryset.filter(program_id=program_id)
    return list(queryset.order_by("pk").values_list("pk", flat=True))


def draw_sample(population: Sequence[int], size: int, seed: str) -> list[int]:
    """A reproducible simple random sample without replacement: the same population and seed draw
    the same payments, in id order."""
    chooser = random.Random(f"confirmation-sample:{seed}")
    return sorted(chooser.sample(list(population), min(size, len(population))))
