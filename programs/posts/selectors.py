"""Reads over posts that are more than a filter: who holds a post on a day, vacancies, a county's
standards, a person's holdings for their file, and what an inspection of a region's posts finds
(the five items of the Wugongshan inspection, facts.yaml `inspection_checklist`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from programs.funding.choices import LIVE_STATUSES, ProgramKind
from programs.funding.models import Payment
from programs.posts.choices import PersonnelChangeStatus, Rating
from programs.posts.models import Assessment, Assignment, Attendance, PersonnelChange, Post, PostStandard
from programs.posts.rules import CountyStandard
from tracker.periods import Month
from tracker.scope import ancestor_paths, user_scope
from tracker.statements import read_by_id

# The label payments carry as their cause when a subsidy run pays an assignment
# (programs.funding.services: cause = the assignment).
ASSIGNMENT_CAUSE = "posts.assignment"


def late_days() -> int:
    """Days after which a reported personnel change counts as late (settings.POST_CHANGE_LATE_DAYS)."""
    return int(getattr(settings, "POST_CHANGE_LATE_DAYS", 30))


def held_between(start: dt.date, end: dt.date) -> Q:
    """Assignments held on at least one day of [start, end]."""
    return Q(start_date__lte=end) & (Q(end_date__isnull=True) | Q(end_date__gte=start))


def held_on(day: dt.date) -> Q:
    return held_between(day, day)


def held_in(month: Month) -> Q:
    return held_between(month.first_day, month.last_day)


def holdings_in_month_exceed(*, region_path: str, month: Month, limit: int) -> bool:
    """Whether a subsidy run over the region would consider more than `limit` holdings (counting at
    most limit + 1 rows: the answer costs the same however large the province)."""
    return Assignment.objects.within(region_path).filter(held_in(month))[: limit + 1].count() > limit


def roster_on(*, post: Post, on: dt.date) -> QuerySet[Assignment]:
    """The holders of a post on a day, in order of their start."""
    return (
        Assignment.objects.filter(held_on(on), post=post)
        .select_related("beneficiary", "post", "region")
        .order_by("start_date", "id")
    )


def with_filled(queryset: QuerySet[Post], on: dt.date | None = None) -> QuerySet[Post]:
    """Posts annotated with `filled`: how many positions are held on the day (today by default), in
    the same query (a correlated count)."""
    on = on or timezone.localdate()
    holders = (
        Assignment.objects.filter(held_on(on), post=OuterRef("pk"))
        .order_by()
        .values("post")
        .annotate(n=Count("id"))
        .values("n")
    )
    return queryset.annotate(filled=Coalesce(Subquery(holders, output_field=IntegerField()), Value(0)))


def filled_for_posts(post_ids: Sequence[int], on: dt.date | None = None) -> dict[int, int]:
    """{post id: positions held on the day}, for a page of posts (one query)."""
    on = on or timezone.localdate()
    rows = (
        Assignment.objects.filter(held_on(on), post_id__in=list(post_ids))
        .order_by()
        .values_list("post_id")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def filled_today_annotation() -> dict[str, Any]:
    """`filled_today`: positions held today, as a subquery of each post's row (a list page's posts
    counted in the page's own query, not a second one)."""
    held = (
        Assignment.objects.filter(held_on(timezone.localdate()), post_id=OuterRef("pk"))
        .order_by()
        .values("post_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return {"filled_today": Coalesce(Subquery(held, output_field=IntegerField()), Value(0))}


def post_periods(
    post: Post, *, exclude: Iterable[int] = ()
) -> list[tuple[int, tuple[dt.date, dt.date | None]]]:
    """(id, (start, end)) of every holding of the post, apart from the excluded assignments."""
    rows = (
        Assignment.objects.filter(post=post)
        .exclude(pk__in=list(exclude))
        .values_list("pk", "start_date", "end_date")
    )
    return [(pk, (start, end)) for pk, start, end in rows]


def person_periods(
    beneficiary: Any, *, exclude: Iterable[int] = ()
) -> list[tuple[int, tuple[dt.date, dt.date | None]]]:
    rows = (
        Assignment.objects.filter(beneficiary=beneficiary)
        .exclude(pk__in=list(exclude))
        .values_list("pk", "start_date", "end_date")
    )
    return [(pk, (start, end)) for pk, start, end in rows]


def county_standards(*, region_path: str, years: Iterable[int]) -> list[CountyStandard]:
    """The post standards in force for a region in each year: those recorded for the region or its
    nearest ancestor that has one (the county, in practice). One query."""
    paths = [*ancestor_paths(region_path), region_path]
    rows = PostStandard.objects.filter(region__path__in=paths, year__in=list(years)).select_related("region")
    best: dict[int, PostStandard] = {}
    for standard in rows:
        current = best.get(standard.year)
        if current is None or len(standard.region.path) > len(current.region.path):
            best[standard.year] = standard
    return [
        CountyStandard(
            county=s.region.name_zh,
            year=s.year,
            urban_standard=s.urban_standard,
            rural_limit=s.rural_limit,
        )
        for s in best.values()
    ]


# Ids per IN (...) list, as the ledger's selectors read a batch: a constant number of queries per
# chunk, whatever the run's size.
CHUNK = 5000


def paid_months(assignment_ids: Sequence[int], month: Month) -> dict[int, int]:
    """{assignment id: payment id} of the live payments caused by these assignments for the month
    (how a run knows a month is already paid: the payment's cause and period)."""
    ids = sorted({str(pk) for pk in assignment_ids})
    found: dict[int, int] = {}
    for index in range(0, len(ids), CHUNK):
        rows = Payment.objects.filter(
            cause_label=ASSIGNMENT_CAUSE,
            cause_object_id__in=ids[index : index + CHUNK],
            status__in=LIVE_STATUSES,
            period_start__lte=month.last_day,
            period_end__gte=month.first_day,
        ).values_list("cause_object_id", "pk")
        found.update((int(cause), pk) for cause, pk in rows)
    return found


# -- one person, one file --------------------------------------------------------------------------------


def posts_for_file(beneficiary: Any, user: Any) -> list[dict[str, Any]]:
    """The "public-welfare posts" section of a person's file: every post they held, newest first,
    with the contract an inspector checks (one query, through its compiled statement)."""
    rows = read_by_id(
        ("file.posts", user_scope(user)),
        lambda pk: (
            Assignment.objects.visible_to(user)
            .filter(beneficiary_id=pk)
            .order_by("-start_date", "-id")
            .values(
                "id",
                "post_id",
                "post__title",
                "region__code",
                "region__name_zh",
                "post__category",
                "start_date",
                "end_date",
                "end_reason",
                "contract_kind",
                "contract_signed_on",
                "payee_account_masked",
            )[:200]
        ),
        beneficiary.pk,
    )
    return [
        {
            "assignment": a["id"],
            "post": a["post_id"],
            "post_title": a["post__title"],
            "region": a["region__code"],
            "region_name": a["region__name_zh"],
            "category": a["post__category"],
            "start_date": a["start_date"].isoformat(),
            "end_date": a["end_date"].isoformat() if a["end_date"] else None,
            "end_reason": a["end_reason"],
            "contract_kind": a["contract_kind"],
            "contract_signed_on": a["contract_signed_on"].isoformat() if a["contract_signed_on"] else None,
            "payee_account": a["payee_account_masked"],
        }
        for a in rows
    ]


# -- what an inspection finds --------------------------------------------------------------------------


def _months(first: Month, last: Month) -> list[Month]:
    months = []
    year, number = first.year, first.month
    while (year, number) <= (last.year, last.month):
        months.append(Month(year, number))
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return months


def inspection_findings(*, region_path: str, first: Month, last: Month) -> dict[str, list[dict[str, Any]]]:
    """What an inspector of the region's posts would find for the months first..last, by the items
    of the Wugongshan inspection (digest lines 112-116; facts.yaml inspection_checklist codes):

    - post_setting: posts without a stated reason (因事设岗);
    - labor_contract_signing: holdings without a signed contract;
    - attendance_assessment: months held without attendance, unqualified assessments;
    - subsidy_payment: post subsidies paid for days after the holder left (or before they started),
      or to no holding at all;
    - personnel_changes: changes reported late, or not approved.

    A constant number of queries whatever the region's size. The inspections issue pre-fills its
    checklist from this."""
    start, end = first.first_day, last.last_day
    months = _months(first, last)
    posts = Post.objects.within(region_path).filter(opened_on__lte=end).exclude(closed_on__lt=start)
    findings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for post in posts.filter(Q(justification="")):
        findings["post_setting"].append({"post": post.pk, "problem": "no_justification"})

    holdings = list(
        Assignment.objects.within(region_path)
        .filter(held_between(start, end))
        .values("pk", "post_id", "beneficiary_id", "start_date", "end_date", "contract_signed_on")
    )
    for holding in holdings:
        if holding["contract_signed_on"] is None:
            findings["labor_contract_signing"].append(
                {"assignment": holding["pk"], "post": holding["post_id"], "problem": "no_contract"}
            )
    recorded = set(
        Attendance.objects.within(region_path)
        .filter(month__in=[str(m) for m in months])
        .values_list("assignment_id", "month")
    )
    for holding in holdings:
        for month in months:
            if month.overlap_days(holding["start_date"], holding["end_date"]) == 0:
                continue
            if month.first_day > timezone.localdate():
                continue
            if (holding["pk"], str(month)) not in recorded:
                findings["attendance_assessment"].append(
                    {
                        "assignment": holding["pk"],
                        "post": holding["post_id"],
                        "month": str(month),
                        "problem": "no_attendance",
                    }
                )
    for pk, assignment_id, period in (
        Assessment.objects.within(region_path)
        .filter(rating=Rating.UNQUALIFIED, period_start__lte=end, period_end__gte=start)
        .values_list("pk", "assignment_id", "period")
    ):
        findings["attendance_assessment"].append(
            {"assessment": pk, "assignment": assignment_id, "period": period, "problem": "unqualified"}
        )

    # Post subsidies for days after the holder left (a month paid before the end was reported): the
    # payments caused by the region's holdings, whenever those ended.
    causes = (
        Assignment.objects.within(region_path)
        .filter(start_date__lte=end)
        .annotate(key=Cast("pk", output_field=CharField()))
        .values("key")
    )
    paid = list(
        Payment.objects.filter(
            cause_label=ASSIGNMENT_CAUSE,
            cause_object_id__in=causes,
            status__in=LIVE_STATUSES,
            period_start__lte=end,
            period_end__gte=start,
        ).values_list("pk", "cause_object_id", "period_start", "period_end")
    )
    spans = {
        pk: (first_day, last_day)
        for pk, first_day, last_day in Assignment.objects.filter(
            pk__in={int(cause) for _pk, cause, _s, _e in paid}
        ).values_list("pk", "start_date", "end_date")
    }
    for pk, cause, period_start, period_end in paid:
        first_day, last_day = spans[int(cause)]
        if last_day is not None and period_end > last_day:
            findings["subsidy_payment"].append(
                {
                    "payment": pk,
                    "assignment": int(cause),
                    "left_on": last_day.isoformat(),
                    "period_end": period_end.isoformat(),
                    "problem": "paid_after_leaving",
                }
            )
        elif period_start < first_day:
            findings["subsidy_payment"].append(
                {"payment": pk, "assignment": int(cause), "problem": "paid_before_start"}
            )
    # Post subsidies not caused by any holding (entered as free-standing payments).
    for pk, beneficiary_id in (
        Payment.objects.within(region_path)
        .filter(
            program__kind=ProgramKind.PUBLIC_WELFARE_POST,
            status__in=LIVE_STATUSES,
            period_start__lte=end,
            period_end__gte=start,
        )
        .exclude(cause_label=ASSIGNMENT_CAUSE)
        .values_list("pk", "beneficiary_id")
    ):
        findings["subsidy_payment"].append(
            {"payment": pk, "beneficiary": beneficiary_id, "problem": "paid_without_post"}
        )

    for pk, post_id, late, status in (
        PersonnelChange.objects.within(region_path)
        .filter(effective_on__range=(start, end))
        .values_list("pk", "post_id", "late", "status")
    ):
        if late:
            findings["personnel_changes"].append({"change": pk, "post": post_id, "problem": "reported_late"})
        if status != PersonnelChangeStatus.APPROVED:
            findings["personnel_changes"].append({"change": pk, "post": post_id, "problem": "not_approved"})
    for key in (
        "post_setting",
        "labor_contract_signing",
        "attendance_assessment",
        "subsidy_payment",
        "personnel_changes",
    ):
        findings.setdefault(key, [])
    return dict(findings)
