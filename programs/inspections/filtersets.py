"""Filters of the audit lists."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from beneficiaries.filtersets import IdFilter, StrictBooleanFilter
from programs.inspections.choices import (
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    Concerns,
    FindingSource,
    FindingStatus,
    InspectionStatus,
    Severity,
)
from programs.inspections.models import (
    CheckRun,
    Complaint,
    Confirmation,
    ConfirmationSample,
    Finding,
    Inspection,
)
from programs.inspections.selectors import overdue_q
from tracker.api.filters import TrackerFilterSet


class InspectionFilterSet(TrackerFilterSet):
    status = django_filters.ChoiceFilter(choices=InspectionStatus.choices)

    class Meta:
        model = Inspection
        fields = ["within", "status"]


class FindingFilterSet(TrackerFilterSet):
    status = django_filters.ChoiceFilter(choices=FindingStatus.choices)
    rule = django_filters.CharFilter(field_name="rule", max_length=64)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    source = django_filters.ChoiceFilter(choices=FindingSource.choices)
    concerns = django_filters.ChoiceFilter(choices=Concerns.choices)
    concerns_id = django_filters.CharFilter(
        field_name="concerns_id", max_length=64, label=_("Record concerned (id)")
    )
    inspection = IdFilter(field_name="inspection_id", label=_("Inspection id"))
    check_run = IdFilter(field_name="check_run_id", label=_("Check run id"))
    overdue = StrictBooleanFilter(method="filter_overdue", label=_("Past due and not rectified"))

    class Meta:
        model = Finding
        fields = [
            "within",
            "status",
            "rule",
            "severity",
            "source",
            "concerns",
            "concerns_id",
            "inspection",
            "check_run",
            "overdue",
        ]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())


class ComplaintFilterSet(TrackerFilterSet):
    status = django_filters.ChoiceFilter(choices=ComplaintStatus.choices)
    channel = django_filters.ChoiceFilter(choices=ComplaintChannel.choices)
    category = django_filters.ChoiceFilter(choices=ComplaintCategory.choices)
    concerns = django_filters.ChoiceFilter(choices=Concerns.choices)

    class Meta:
        model = Complaint
        fields = ["within", "status", "channel", "category", "concerns"]


class ConfirmationSampleFilterSet(TrackerFilterSet):
    class Meta:
        model = ConfirmationSample
        fields = ["within"]


class ConfirmationFilterSet(TrackerFilterSet):
    sample = IdFilter(field_name="sample_id", label=_("Sample id"))
    confirmed = StrictBooleanFilter(method="filter_confirmed", label=_("Confirmation recorded"))

    class Meta:
        model = Confirmation
        fields = ["within", "sample", "confirmed"]

    def filter_confirmed(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(confirmed_at__isnull=not value)


class CheckRunFilterSet(TrackerFilterSet):
    class Meta:
        model = CheckRun
        fields = ["within"]
