"""Reads over the registry that other apps rely on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q

from beneficiaries.models import Beneficiary, GroupMembership


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
