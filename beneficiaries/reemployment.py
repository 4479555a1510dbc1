"""Re-employment read from the status history (StatusChange), for the employment report and targets.

- Unemployed people re-employed (失业人员再就业): a change into an employed status whose previous
  status (the latest change before it) was unemployed.
- People with employment difficulties employed (就业困难人员实现就业): a change into an employed status,
  from a status that was not employed (or none), of a person who was a member of the
  `employment_difficulty` group on that day.
Both are querysets of StatusChange with the previous status annotated as a correlated subquery, so a
report counts them (distinct people) in one query whatever the history's size.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from beneficiaries.choices import EMPLOYED_STATUSES, EmploymentStatus
from beneficiaries.models import GroupMembership, StatusChange

EMPLOYMENT_DIFFICULTY_GROUP = "employment_difficulty"


def _with_previous() -> QuerySet[StatusChange]:
    previous = (
        StatusChange.objects.filter(beneficiary=OuterRef("beneficiary"))
        .filter(
            Q(effective_on__lt=OuterRef("effective_on"))
            | Q(effective_on=OuterRef("effective_on"), id__lt=OuterRef("id"))
        )
        .order_by("-effective_on", "-id")
        .values("status")[:1]
    )
    return StatusChange.objects.filter(status__in=EMPLOYED_STATUSES).annotate(
        previous_status=Subquery(previous)
    )


def reemployment_changes() -> QuerySet[StatusChange]:
    return _with_previous().filter(previous_status=EmploymentStatus.UNEMPLOYED)


def difficulty_employment_changes() -> QuerySet[StatusChange]:
    member = GroupMembership.objects.filter(
        beneficiary=OuterRef("beneficiary"),
        group__code=EMPLOYMENT_DIFFICULTY_GROUP,
        valid_from__lte=OuterRef("effective_on"),
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=OuterRef("effective_on")))
    return (
        _with_previous()
        .filter(Exists(member))
        .filter(Q(previous_status__isnull=True) | ~Q(previous_status__in=EMPLOYED_STATUSES))
    )
