"""Filters of the funding lists, by natural key (codes) where records have one."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from programs.funding.choices import EmployerSize, PayeeKind, PaymentStatus, ProgramKind
from programs.funding.models import Employer, FundSource, Payment, Program
from tracker.api.filters import IdFilter, TrackerFilterSet


class FundSourceFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", max_length=100, label=_("Search"))

    class Meta:
        model = FundSource
        fields = ["q"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(code__icontains=value) | Q(name_zh__contains=value) | Q(name_en__icontains=value)
        )


class ProgramFilterSet(TrackerFilterSet):
    region = django_filters.CharFilter(
        field_name="region__code", max_length=12, label=_("Issuing region (code)")
    )
    applies_in = django_filters.CharFilter(
        method="filter_applies_in",
        max_length=12,
        label=_("Applies in region (code): issued by it or an ancestor"),
    )
    kind = django_filters.ChoiceFilter(choices=ProgramKind.choices)
    payee_kind = django_filters.ChoiceFilter(choices=PayeeKind.choices)
    fund_source = django_filters.CharFilter(field_name="fund_source__code", max_length=64)
    code = django_filters.CharFilter(field_name="code", max_length=64)
    active_on = django_filters.DateFilter(method="filter_active_on", label=_("Valid on date"))
    q = django_filters.CharFilter(method="search", max_length=100, label=_("Search"))

    class Meta:
        model = Program
        fields = [
            "region",
            "within",
            "applies_in",
            "kind",
            "payee_kind",
            "fund_source",
            "code",
            "active_on",
            "q",
        ]

    def filter_applies_in(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        from tracker.regions.models import Region

        path = Region.path_for_code(value)
        return queryset.applicable_to(path) if path else queryset.none()

    def filter_active_on(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=value),
            Q(valid_to__isnull=True) | Q(valid_to__gte=value),
        )

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(code__icontains=value)
            | Q(name_zh__contains=value)
            | Q(name_en__icontains=value)
            | Q(policy_reference__contains=value)
        )


class EmployerFilterSet(TrackerFilterSet):
    size = django_filters.ChoiceFilter(choices=EmployerSize.choices)
    uscc = django_filters.CharFilter(field_name="uscc", max_length=18)
    q = django_filters.CharFilter(method="search", max_length=100, label=_("Search"))

    class Meta:
        model = Employer
        fields = ["within", "size", "uscc", "q"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__contains=value) | Q(uscc__startswith=value.upper()))


class PaymentFilterSet(TrackerFilterSet):
    program = django_filters.CharFilter(field_name="program__code", max_length=64, label=_("Program (code)"))
    payee_kind = django_filters.ChoiceFilter(choices=PayeeKind.choices)
    beneficiary = IdFilter(field_name="beneficiary_id")
    employer = IdFilter(field_name="employer_id")
    institution = IdFilter(field_name="institution_id")
    status = django_filters.MultipleChoiceFilter(choices=PaymentStatus.choices)
    period_from = django_filters.DateFilter(
        field_name="period_end", lookup_expr="gte", label=_("Period ends on or after")
    )
    period_to = django_filters.DateFilter(
        field_name="period_start", lookup_expr="lte", label=_("Period starts on or before")
    )
    fund_source = django_filters.CharFilter(
        field_name="fund_source__code", max_length=64, label=_("Fund source (code)")
    )
    cause = django_filters.CharFilter(field_name="cause_label", max_length=100)
    cause_id = django_filters.CharFilter(field_name="cause_object_id", max_length=64)

    class Meta:
        model = Payment
        fields = [
            "program",
            "payee_kind",
            "beneficiary",
            "employer",
            "institution",
            "status",
            "period_from",
            "period_to",
            "within",
            "fund_source",
            "cause",
            "cause_id",
        ]
