"""Reads over the registry that other apps rely on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from beneficiaries.choices import FollowUpStatus, Gender
from beneficiaries.models import ID_NUMBER_PURPOSE, Beneficiary, GroupMembership, StatusChange
from tracker.statements import read_by_id


def memberships_on(on: dt.date) -> Q:
    """Q for GroupMembership rows valid on a date (valid_from <= on, and valid_to empty or >= on)."""
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def beneficiary_group_codes_on(*, beneficiary: Beneficiary, on: dt.date) -> set[str]:
    """The codes of the groups a person belongs to on a date (one query). Eligibility rules in
    later apps ask "was this person a member of group G on date D"."""
    return set(
        GroupMembership.objects.filter(memberships_on(on), beneficiary=beneficiary).values_list(
            "group__code", flat=True
        )
    )


def beneficiary_in_groups_on(*, beneficiary: Beneficiary, group_codes: Iterable[str], on: dt.date) -> bool:
    codes = list(group_codes)
    return GroupMembership.objects.filter(
        memberships_on(on), beneficiary=beneficiary, group__code__in=codes
    ).exists()


# -- employment status over time -------------------------------------------------------------------


def status_change_on(*, beneficiary: Beneficiary, on: dt.date) -> StatusChange | None:
    """The status change in force on a date: the latest effective on or before it (by effective
    date, then by order of recording). None before the first recorded status."""
    return (
        StatusChange.objects.filter(beneficiary=beneficiary, effective_on__lte=on)
        .order_by("-effective_on", "-id")
        .first()
    )


def beneficiary_status_on(*, beneficiary: Beneficiary, on: dt.date) -> str:
    """The employment status code on a date ('' when none was recorded by then). One query, through
    its compiled statement (one per date)."""
    rows = read_by_id(
        ("status_on", on),
        lambda pk: (
            StatusChange.objects.filter(beneficiary_id=pk, effective_on__lte=on)
            .order_by("-effective_on", "-id")
            .values("status")[:1]
        ),
        beneficiary.pk,
    )
    return rows[0]["status"] if rows else ""


def beneficiaries_with_status_on(*, status: str, on: dt.date, queryset: QuerySet | None = None) -> QuerySet:
    """People whose status in force on a date is `status`, in one query (a correlated subquery)."""
    latest = (
        StatusChange.objects.filter(beneficiary=OuterRef("pk"), effective_on__lte=on)
        .order_by("-effective_on", "-id")
        .values("status")[:1]
    )
    queryset = queryset if queryset is not None else Beneficiary.objects.all()
    return queryset.annotate(_status_on=Subquery(latest)).filter(_status_on=status)


def unverified_since(*, days: int | None = None, today: dt.date | None = None) -> Q:
    """Q for people whose status was not verified in the last `days` days (never verified counts):
    the dynamic-monitoring condition (防返贫动态监测), default settings.MONITORING_INTERVAL_DAYS."""
    if days is None:
        days = getattr(settings, "MONITORING_INTERVAL_DAYS", 90)
    today = today or timezone.localdate()
    cutoff = today - dt.timedelta(days=days)
    return Q(status_verified_on__isnull=True) | Q(status_verified_on__lt=cutoff)


# -- 4045 rural workers ----------------------------------------------------------------------------


def _years_before(on: dt.date, years: int) -> dt.date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February in a common year
        return on.replace(year=on.year - years, day=28)


# The "4045" ages: women from 40, men from 45 (the name says so; facts.yaml AMB14 gives this as
# the usual meaning, the digest's “4045”农村劳动力 at line 524 does not define it). Not the "4050"
# of urban employment-difficulty rules (women 40, men 50).
AGE_4045 = {Gender.FEMALE: 40, Gender.MALE: 45}


def is_4045_age_on(*, gender: str, birth_date: dt.date, on: dt.date) -> bool:
    """Women aged 40 and over, men aged 45 and over on the date (the "4045" rule; age from the birth
    date the identity number carries)."""
    years = AGE_4045.get(gender)
    return years is not None and birth_date <= _years_before(on, years)


def q_4045_age_on(on: dt.date) -> Q:
    """The same rule as a filter: one indexed comparison per gender, no per-row Python."""
    return Q(gender=Gender.FEMALE, birth_date__lte=_years_before(on, AGE_4045[Gender.FEMALE])) | Q(
        gender=Gender.MALE, birth_date__lte=_years_before(on, AGE_4045[Gender.MALE])
    )


RURAL_LABOUR = "rural_labour"
RURAL_4045 = "rural_4045"


def beneficiary_is_4045_on(
    *, beneficiary: Beneficiary, on: dt.date, require_rural_labour: bool = True
) -> bool:
    """4045 rural worker on a date. Derived, never recorded: by the product rule in
    seeds/data/beneficiary_groups.yaml (`rural_4045`), a member of `rural_labour` on that date whose
    age qualifies; with require_rural_labour=False, the age-and-gender rule alone."""
    if not is_4045_age_on(gender=beneficiary.gender, birth_date=beneficiary.birth_date, on=on):
        return False
    if not require_rural_labour:
        return True
    return beneficiary_in_groups_on(beneficiary=beneficiary, group_codes=[RURAL_LABOUR], on=on)


def beneficiaries_4045_on(
    *, on: dt.date, require_rural_labour: bool = True, queryset: QuerySet | None = None
) -> QuerySet:
    queryset = (queryset if queryset is not None else Beneficiary.objects.all()).filter(q_4045_age_on(on))
    if require_rural_labour:
        members = GroupMembership.objects.filter(memberships_on(on), group__code=RURAL_LABOUR)
        queryset = queryset.filter(pk__in=members.values("beneficiary_id"))
    return queryset


# -- follow-ups ------------------------------------------------------------------------------------


def follow_ups_overdue(*, today: dt.date | None = None) -> Q:
    """Open follow-ups whose due date has passed."""
    today = today or timezone.localdate()
    return Q(status=FollowUpStatus.OPEN, due_on__lt=today)


# -- look-ups --------------------------------------------------------------------------------------


def beneficiary_by_id_number(*, id_number: str) -> Beneficiary | None:
    """Exact match through the keyed hash (the number itself is stored only encrypted)."""
    from beneficiaries.identity import normalise_id_number
    from tracker.pii import keyed_hash

    return Beneficiary.objects.filter(
        id_number_hash=keyed_hash(normalise_id_number(id_number), purpose=ID_NUMBER_PURPOSE)
    ).first()


def current_memberships_prefetch(on: dt.date | None = None, to_attr: str = "current_memberships") -> Prefetch:
    """Prefetch of the memberships valid on a date (today by default), with their groups: lists
    render `groups` without one query per row."""
    on = on or timezone.localdate()
    return Prefetch(
        "memberships",
        queryset=GroupMembership.objects.filter(memberships_on(on))
        .select_related("group")
        .order_by("group__code"),
        to_attr=to_attr,
    )
