"""Reads over vouchers that are more than a filter: the facts the issue rules need for a batch of
holders, plan progress, attendance, the vouchers enrolled at an institution and the lifelong training
record (终身职业技能电子培训档案), each in a constant number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from programs.funding.choices import LIVE_STATUSES as LIVE_PAYMENT_STATUSES
from programs.funding.models import Payment
from programs.vouchers.choices import COUNTED_STATUSES, LIVE_STATUSES, VoucherPayee, VoucherStatus
from programs.vouchers.codes import format_code
from programs.vouchers.models import (
    CheckIn,
    CourseSession,
    Voucher,
    VoucherPlan,
    WorkerTrainingProfile,
)
from programs.vouchers.rules import HolderFacts, attendance_rate
from tracker.regions.models import Region
from tracker.scope import user_scope
from tracker.statements import read_by_id

CHUNK = 5000
VOUCHER_CAUSE = "vouchers.voucher"


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def holder_facts(people: Sequence[Any], *, on: dt.date) -> dict[int, HolderFacts]:
    """Per person (loaded Beneficiary rows): active, region path, groups on `on`, training profile,
    live voucher types and subsidised vouchers of `on`'s year: five queries per 5,000 people."""
    from beneficiaries.models import GroupMembership

    Region.cache_paths(p.region_id for p in people)
    facts = {p.pk: HolderFacts(active=p.active, path=Region.cached_path(p.region_id)) for p in people}
    ids = sorted(facts)
    year_start = dt.date(on.year, 1, 1)
    for chunk in _chunks(ids):
        groups: dict[int, set[str]] = defaultdict(set)
        memberships = GroupMembership.objects.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=on), beneficiary_id__in=chunk, valid_from__lte=on
        ).values_list("beneficiary_id", "group__code")
        for person_id, code in memberships:
            groups[person_id].add(code)
        for person_id, codes in groups.items():
            facts[person_id].group_codes = frozenset(codes)
        for person_id, months in WorkerTrainingProfile.objects.filter(beneficiary_id__in=chunk).values_list(
            "beneficiary_id", "ui_contribution_months"
        ):
            facts[person_id].ui_months = months
        for person_id, type_id in Voucher.objects.filter(
            holder_id__in=chunk, status__in=LIVE_STATUSES
        ).values_list("holder_id", "type_id"):
            facts[person_id].live_type_ids.add(type_id)
        counted = (
            Voucher.objects.filter(
                holder_id__in=chunk,
                status__in=COUNTED_STATUSES,
                issued_at__date__gte=year_start,
                issued_at__date__lte=dt.date(on.year, 12, 31),
            )
            .exclude(type__payee=VoucherPayee.NONE)
            .values_list("holder_id")
            .annotate(n=Count("id"))
        )
        for person_id, n in counted:
            facts[person_id].subsidised_in_year = n
    return facts


def plan_used(plan: VoucherPlan) -> int:
    """Vouchers of the plan that count against its cap: all but the cancelled ones."""
    return Voucher.objects.filter(plan=plan).exclude(status=VoucherStatus.CANCELLED).count()


def plan_progress(plan_ids: list[int]) -> dict[int, dict[str, Any]]:
    """For each plan: issued (cancelled excepted), claimed, completed, redeemed (each counting the
    vouchers that reached that step, whatever happened after), expired, cancelled, and what the cap
    leaves. One aggregate query for any number of plans."""
    rows = (
        Voucher.objects.filter(plan_id__in=plan_ids)
        .values("plan_id")
        .annotate(
            issued=Count("id", filter=~Q(status=VoucherStatus.CANCELLED)),
            claimed=Count("id", filter=Q(claimed_at__isnull=False)),
            completed=Count("id", filter=Q(completed_at__isnull=False)),
            redeemed=Count("id", filter=Q(redeemed_at__isnull=False)),
            expired=Count("id", filter=Q(status=VoucherStatus.EXPIRED)),
            cancelled=Count("id", filter=Q(status=VoucherStatus.CANCELLED)),
        )
    )
    empty = {"issued": 0, "claimed": 0, "completed": 0, "redeemed": 0, "expired": 0, "cancelled": 0}
    found = {row.pop("plan_id"): row for row in rows}
    return {pk: {**empty, **found.get(pk, {})} for pk in plan_ids}


def with_remaining(progress: dict[str, Any], cap: int | None) -> dict[str, Any]:
    return {**progress, "remaining": None if cap is None else max(cap - progress["issued"], 0)}


def plans_progress_column(ids: list[int]) -> dict[int, dict[str, Any]]:
    """The `progress` of a page of plans (the API's PageColumn): counts and what the cap leaves."""
    caps = dict(VoucherPlan.objects.filter(pk__in=ids).values_list("pk", "cap"))
    return {pk: with_remaining(progress, caps.get(pk)) for pk, progress in plan_progress(ids).items()}


def attendance(vouchers: Sequence[Voucher], *, now: dt.datetime | None = None) -> dict[int, dict[str, Any]]:
    """Per voucher with a course: sessions held so far (started by `now`), accepted check-ins to them,
    and the rate. Two queries for any number of vouchers."""
    now = now or timezone.now()
    course_ids = {v.course_id for v in vouchers if v.course_id is not None}
    held = dict(
        CourseSession.objects.filter(course_id__in=course_ids, starts_at__lte=now)
        .values_list("course_id")
        .annotate(n=Count("id"))
    )
    accepted = dict(
        CheckIn.objects.filter(
            voucher_id__in=[v.pk for v in vouchers if v.course_id is not None],
            accepted=True,
            session__starts_at__lte=now,
        )
        # Only check-ins to the voucher's current course count (a voucher moved to another course
        # keeps the first course's check-ins in its history, not in its attendance).
        .filter(session__course_id=F("voucher__course_id"))
        .values_list("voucher_id")
        .annotate(n=Count("id"))
    )
    out = {}
    for voucher in vouchers:
        if voucher.course_id is None:
            continue
        h = held.get(voucher.course_id, 0)
        a = accepted.get(voucher.pk, 0)
        out[voucher.pk] = {"sessions_held": h, "accepted_check_ins": a, "rate": attendance_rate(a, h)}
    return out


def attendance_of(voucher: Voucher, *, now: dt.datetime | None = None) -> dict[str, Any]:
    return attendance([voucher], now=now).get(
        voucher.pk, {"sessions_held": 0, "accepted_check_ins": 0, "rate": None}
    )


def training_days(voucher: Voucher) -> int:
    """Days on which the holder attended the voucher's course (distinct local dates of accepted
    check-ins): what an allowance per training day pays for."""
    days = {
        timezone.localdate(at)
        for at in CheckIn.objects.filter(
            voucher=voucher, accepted=True, session__course_id=voucher.course_id
        ).values_list("at", flat=True)
    }
    return len(days)


def vouchers_enrolled_at(institution: Any) -> Any:
    """The vouchers enrolled in the institution's courses (to move or cancel when it is suspended)."""
    return (
        Voucher.objects.filter(course__institution=institution, status=VoucherStatus.ENROLLED)
        .select_related("type", "holder", "course")
        .order_by("id")
    )


def voucher_payments(voucher_ids: list[int], user: Any = None) -> dict[int, list[dict[str, Any]]]:
    """The payments each voucher caused (redemption, living allowances, reversals), one query."""
    payments = Payment.objects.filter(
        cause_label=VOUCHER_CAUSE, cause_object_id__in=[str(i) for i in voucher_ids]
    )
    if user is not None:
        payments = payments.visible_to(user)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = payments.order_by("id").values(
        "id", "cause_object_id", "program__code", "program__kind", "payee_kind", "amount", "status"
    )
    for row in rows:
        out[int(row["cause_object_id"])].append(
            {
                "id": row["id"],
                "program": row["program__code"],
                "program_kind": row["program__kind"],
                "payee_kind": row["payee_kind"],
                "amount": str(row["amount"]),
                "status": row["status"],
            }
        )
    return out


def live_advances(voucher: Voucher) -> list[Payment]:
    """The living allowances paid in advance for the voucher that are still live."""
    return list(
        Payment.objects.filter(
            cause_label=VOUCHER_CAUSE,
            cause_object_id=str(voucher.pk),
            status__in=LIVE_PAYMENT_STATUSES,
            program__training_allowance__isnull=False,
        ).order_by("id")
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


_RECORD_FIELDS = (
    "id",
    "code",
    "type__code",
    "type__name_zh",
    "status",
    "issued_at",
    "expires_on",
    "claimed_at",
    "enrolled_at",
    "completed_at",
    "redeemed_at",
    "cancelled_at",
    "course_id",
    "course__title",
    "course__occupation_code",
    "course__occupation_name",
    "course__level",
    "course__hours",
    "course__starts_on",
    "course__ends_on",
    "course__institution_id",
    "course__institution__name",
    "evaluation__id",
    "evaluation__course_rating",
    "evaluation__institution_rating",
    "evaluation__comment",
    "evaluation__evaluated_at",
    "certificate__id",
    "certificate__number",
    "certificate__level",
    "certificate__issued_on",
)


def training_record(beneficiary: Any, user: Any) -> list[dict[str, Any]]:
    """The person's lifelong training record: every voucher the user may see, newest first, with
    its type, course, institution, attendance, evaluation, certificate and payments. One query (its
    compiled statement) for a person without vouchers, four whatever the number of vouchers."""
    rows = read_by_id(
        ("training_record", user_scope(user)),
        lambda pk: (
            Voucher.objects.visible_to(user)
            .filter(holder_id=pk)
            .order_by("-issued_at", "-id")
            .values(*_RECORD_FIELDS)
        ),
        beneficiary.pk,
    )
    if not rows:
        return []
    attended = attendance([Voucher(id=row["id"], course_id=row["course_id"]) for row in rows])
    payments = voucher_payments([row["id"] for row in rows], user)
    record = []
    for v in rows:
        att = attended.get(v["id"])
        record.append(
            {
                "voucher": v["code"],
                "code_display": format_code(v["code"]),
                "type": v["type__code"],
                "type_name": v["type__name_zh"],
                "status": v["status"],
                "issued_at": _iso(v["issued_at"]),
                "expires_on": _iso(v["expires_on"]),
                "claimed_at": _iso(v["claimed_at"]),
                "enrolled_at": _iso(v["enrolled_at"]),
                "completed_at": _iso(v["completed_at"]),
                "redeemed_at": _iso(v["redeemed_at"]),
                "cancelled_at": _iso(v["cancelled_at"]),
                "course": None
                if v["course_id"] is None
                else {
                    "id": v["course_id"],
                    "title": v["course__title"],
                    "occupation_code": v["course__occupation_code"],
                    "occupation_name": v["course__occupation_name"],
                    "level": v["course__level"],
                    "hours": v["course__hours"],
                    "starts_on": _iso(v["course__starts_on"]),
                    "ends_on": _iso(v["course__ends_on"]),
                },
                "institution": None
                if v["course_id"] is None
                else {"id": v["course__institution_id"], "name": v["course__institution__name"]},
                "attendance": None
                if att is None
                else {
                    "sessions_held": att["sessions_held"],
                    "accepted_check_ins": att["accepted_check_ins"],
                    "rate": None if att["rate"] is None else str(att["rate"]),
                },
                "evaluation": None
                if v["evaluation__id"] is None
                else {
                    "course_rating": v["evaluation__course_rating"],
                    "institution_rating": v["evaluation__institution_rating"],
                    "comment": v["evaluation__comment"],
                    "evaluated_at": _iso(v["evaluation__evaluated_at"]),
                },
                "certificate": None
                if v["certificate__id"] is None
                else {
                    "number": v["certificate__number"],
                    "level": v["certificate__level"],
                    "issued_on": _iso(v["certificate__issued_on"]),
                },
                "payments": payments.get(v["id"], []),
            }
        )
    return record


def training_record_for_file(beneficiary: Any, user: Any) -> list[dict[str, Any]]:
    """The one-person-one-file section: the same record."""
    return training_record(beneficiary, user)
