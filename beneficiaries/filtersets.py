"""List filters for the registry and its follow-ups (natural keys: region and group codes)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from beneficiaries.choices import EmploymentStatus, FollowUpStatus
from beneficiaries.identity import normalise_id_number
from beneficiaries.models import ID_NUMBER_PURPOSE, PHONE_PURPOSE, Beneficiary, FollowUp, GroupMembership
from beneficiaries.names import normalise_name
from beneficiaries.selectors import follow_ups_overdue, memberships_on, unverified_since
from beneficiaries.services import normalise_phone
from tracker.api.filters import IdFilter, IntegerFilter, TrackerFilterSet
from tracker.pii import keyed_hash


class StrictBooleanField(forms.CharField):
    """true/false (also 1/0, yes/no); any other value is a 400 rather than silently ignored (the
    default widget reads an unknown value as "no filter", so a typo returned the unfiltered list)."""

    _TRUE = frozenset({"true", "1", "yes"})
    _FALSE = frozenset({"false", "0", "no"})

    def clean(self, value: Any) -> bool | None:
        text = super().clean(value).strip().lower()
        if text == "":
            return None
        if text in self._TRUE:
            return True
        if text in self._FALSE:
            return False
        raise forms.ValidationError(_("Expected true or false."), code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


_ID_NUMBER = re.compile(r"[0-9]{17}[0-9Xx]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
MAX_DAYS = 36_500


class BeneficiaryFilterSet(TrackerFilterSet):
    group = django_filters.CharFilter(
        method="filter_group", max_length=64, label=_("Member of the group (code) today")
    )
    status = django_filters.ChoiceFilter(
        choices=EmploymentStatus.choices, label=_("Current employment status")
    )
    willing_to_work = StrictBooleanFilter(label=_("Willing to work"))
    active = StrictBooleanFilter(label=_("Active"))
    registered_since = django_filters.DateFilter(
        method="filter_registered_since", label=_("Registered on or after (date)")
    )
    unverified_for_days = IntegerFilter(
        method="filter_unverified",
        min_value=0,
        max_value=MAX_DAYS,
        label=_("Status not verified for at least this many days (never verified included)"),
    )
    q = django_filters.CharFilter(
        method="filter_q", max_length=50, label=_("Name prefix, or an exact identity number or mobile number")
    )

    class Meta:
        model = Beneficiary
        fields = ["within", "group", "status", "willing_to_work", "active", "registered_since"]

    def filter_group(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        members = GroupMembership.objects.filter(memberships_on(timezone.localdate()), group__code=value)
        return queryset.filter(pk__in=members.values("beneficiary_id"))

    def filter_registered_since(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        start = timezone.make_aware(dt.datetime.combine(value, dt.time.min))
        try:
            start.astimezone(dt.UTC)
        except OverflowError:
            # Midnight of 0001-01-01 east of UTC is before year 1 in UTC: no one registered earlier.
            return queryset
        return queryset.filter(registered_at__gte=start)

    def filter_unverified(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(unverified_since(days=int(value)))

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """An exact identity number (or mobile) is matched through its keyed hash: searching finds
        the person but reveals nothing the caller did not type. Anything else is a name prefix."""
        value = value.strip()
        if _ID_NUMBER.fullmatch(value):
            return queryset.filter(
                id_number_hash=keyed_hash(normalise_id_number(value), purpose=ID_NUMBER_PURPOSE)
            )
        if _MOBILE.fullmatch(normalise_phone(value)):
            return queryset.filter(phone_hash=keyed_hash(normalise_phone(value), purpose=PHONE_PURPOSE))
        # Stored names are normalised (beneficiaries.names): a prefix typed with ・ finds ·.
        value = normalise_name(value)
        return queryset.filter(name__startswith=value) if value else queryset


class FollowUpFilterSet(TrackerFilterSet):
    status = django_filters.ChoiceFilter(choices=FollowUpStatus.choices, label=_("Status"))
    overdue = StrictBooleanFilter(method="filter_overdue", label=_("Open and past its due date"))
    beneficiary = IdFilter(field_name="beneficiary_id", label=_("Beneficiary id"))
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lt", label=_("Due before (date)")
    )

    class Meta:
        model = FollowUp
        fields = ["within", "status", "overdue", "beneficiary", "due_before"]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if value is None:
            return queryset
        condition = follow_ups_overdue()
        return queryset.filter(condition) if value else queryset.exclude(condition)
