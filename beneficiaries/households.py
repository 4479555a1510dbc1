"""Households (户): writes and reads.

A household's "members employed" is derived in SQL from its members' current statuses (the status
denormalised on Beneficiary by status_change_record), never stored, so it cannot go stale. The two
compliance selectors return the violating households of a whole region in one query each; the audit
app's check registry registers them as RELOCATED_HOUSEHOLD_NO_EMPLOYMENT and ZERO_EMPLOYMENT_HOUSEHOLD:

- Xingtai (digest lines 571-573): 易地扶贫搬迁涉及内丘县、临城县两个县，已搬迁帮扶对象家庭均已实现 1 人以上稳定就业
  — a relocated household without a member in work is a finding.
- Tianjin (line 602): 确保了零就业家庭动态清零 — a household identified as zero-employment that still
  has no member in work is a finding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from beneficiaries.choices import EMPLOYED_STATUSES, HouseholdRelation
from beneficiaries.models import Beneficiary, Household, HouseholdMember
from tracker.accounts.choices import Role
from tracker.accounts.roles import require_role
from tracker.changelog.context import acting
from tracker.errors import Conflict
from tracker.regions.models import Region
from tracker.scope import require_in_scope
from tracker.transactions import atomic_service

RELOCATED_HOUSEHOLD_NO_EMPLOYMENT = "RELOCATED_HOUSEHOLD_NO_EMPLOYMENT"
ZERO_EMPLOYMENT_HOUSEHOLD = "ZERO_EMPLOYMENT_HOUSEHOLD"

HOUSEHOLD_FIELDS = frozenset(
    {
        "head_name",
        "address",
        "relocated",
        "relocated_on",
        "zero_employment",
        "zero_employment_identified_on",
        "notes",
    }
)


# -- reads ---------------------------------------------------------------------------------------------


def employed_members() -> Subquery:
    """SQL: how many of a household's members are in work now (current status employed)."""
    counted = (
        HouseholdMember.objects.filter(household=OuterRef("pk"), beneficiary__status__in=EMPLOYED_STATUSES)
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def member_count() -> Subquery:
    counted = (
        HouseholdMember.objects.filter(household=OuterRef("pk"))
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_employment(queryset: QuerySet[Household]) -> QuerySet[Household]:
    """Households with `members` and `members_employed` annotated (one query, two subqueries)."""
    return queryset.annotate(members_total=member_count(), members_employed=employed_members())


def _someone_employed() -> Exists:
    return Exists(
        HouseholdMember.objects.filter(household=OuterRef("pk"), beneficiary__status__in=EMPLOYED_STATUSES)
    )


def relocated_households_without_employment(
    queryset: QuerySet[Household] | None = None,
) -> QuerySet[Household]:
    """RELOCATED_HOUSEHOLD_NO_EMPLOYMENT: relocated households none of whose members is in work now.
    One query; pass a scoped queryset (`Household.objects.visible_to(user).within(path)`)."""
    base = Household.objects.all() if queryset is None else queryset
    return base.filter(relocated=True).filter(~_someone_employed())


def zero_employment_households(queryset: QuerySet[Household] | None = None) -> QuerySet[Household]:
    """ZERO_EMPLOYMENT_HOUSEHOLD: households identified as zero-employment that are not cleared yet
    (no member in work now). One query."""
    base = Household.objects.all() if queryset is None else queryset
    return base.filter(zero_employment=True).filter(~_someone_employed())


# -- writes --------------------------------------------------------------------------------------------


def _check_dates(household: Household) -> None:
    errors: dict[str, list[str]] = {}
    if household.relocated_on and not household.relocated:
        errors["relocated_on"] = [_("Only a relocated household has a relocation date.")]
    if household.zero_employment_identified_on and not household.zero_employment:
        errors["zero_employment_identified_on"] = [
            _("Only a household identified as zero-employment has an identification date.")
        ]
    if errors:
        raise ValidationError(errors)


def _members(household: Household, members: list[Mapping[str, Any]], actor: Any) -> None:
    """Add members ({beneficiary, relation}); each person belongs to one household, in its region."""
    people = [m["beneficiary"] for m in members]
    ids = [p.pk for p in people]
    if len(set(ids)) != len(ids):
        raise ValidationError({"members": [_("A person is listed twice.")]})
    taken = set(
        HouseholdMember.objects.filter(beneficiary_id__in=ids).values_list("beneficiary_id", flat=True)
    )
    if taken:
        raise Conflict(
            _("A person already belongs to a household: %(ids)s")
            % {"ids": ", ".join(map(str, sorted(taken)))}
        )
    heads = sum(1 for m in members if m.get("relation") == HouseholdRelation.HEAD)
    if heads > 1 or (heads and household.members.filter(relation=HouseholdRelation.HEAD).exists()):
        raise ValidationError({"members": [_("A household has one head.")]})
    for person in people:
        require_in_scope(actor, person)
        if not person.region_path.startswith(household.region_path or household.region.path):
            raise ValidationError(
                {"members": [_("A member's household region lies outside the household's region.")]}
            )
    for member in members:
        row = HouseholdMember(
            household=household,
            beneficiary=member["beneficiary"],
            relation=member.get("relation") or HouseholdRelation.OTHER,
        )
        row.validate_row()
        with acting(actor):
            row.save()


@atomic_service
def household_create(
    *,
    actor: Any,
    number: str,
    region: Region,
    head_name: str = "",
    address: str = "",
    relocated: bool = False,
    relocated_on: dt.date | None = None,
    zero_employment: bool = False,
    zero_employment_identified_on: dt.date | None = None,
    notes: str = "",
    members: list[Mapping[str, Any]] | None = None,
    dry_run: bool = False,
) -> Household:
    """A household and its members (clerks of the region or above)."""
    require_role(actor, Role.CLERK)
    require_in_scope(actor, region)
    household = Household(
        number=(number or "").strip(),
        region=region,
        head_name=(head_name or "").strip(),
        address=(address or "").strip(),
        relocated=relocated,
        relocated_on=relocated_on,
        zero_employment=zero_employment,
        zero_employment_identified_on=zero_employment_identified_on,
        notes=notes or "",
    )
    _check_dates(household)
    household.validate_row(dry_run=dry_run)
    if dry_run:
        return household
    with acting(actor):
        household.save()
    if members:
        _members(household, list(members), actor)
    return household


@atomic_service
def household_update(
    *,
    household: Household,
    actor: Any,
    fields: Mapping[str, Any],
    members: list[Mapping[str, Any]] | None = None,
    dry_run: bool = False,
) -> Household:
    """Correct a household's fields and add members (one household per person: moving a person is
    not offered yet)."""
    require_role(actor, Role.CLERK)
    unknown = set(fields) - HOUSEHOLD_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in sorted(unknown)})
    household = Household.objects.select_for_update().select_related("region").get(pk=household.pk)
    require_in_scope(actor, household)
    for name, value in fields.items():
        setattr(household, name, "" if value is None and name in ("head_name", "address", "notes") else value)
    _check_dates(household)
    household.validate_row(dry_run=dry_run)
    if dry_run:
        return household
    with acting(actor):
        household.save()
    if members:
        _members(household, list(members), actor)
    return household


def member_counts(household_ids: list[int], *, employed: bool = False) -> dict[int, int]:
    """{household id: members (in work, with `employed`)} for a page of households, one query."""
    rows = HouseholdMember.objects.filter(household_id__in=household_ids)
    if employed:
        rows = rows.filter(beneficiary__status__in=EMPLOYED_STATUSES)
    return dict(rows.order_by().values("household").annotate(n=Count("pk")).values_list("household", "n"))


def household_for_person(beneficiary: Beneficiary) -> Household | None:
    membership = HouseholdMember.objects.filter(beneficiary=beneficiary).select_related("household").first()
    return membership.household if membership else None


__all__ = [
    "RELOCATED_HOUSEHOLD_NO_EMPLOYMENT",
    "ZERO_EMPLOYMENT_HOUSEHOLD",
    "household_create",
    "household_update",
    "relocated_households_without_employment",
    "with_employment",
    "zero_employment_households",
]
