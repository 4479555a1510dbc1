"""Filters of the posts lists, by natural key (region and program codes) where records have one."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from beneficiaries.filtersets import IdFilter, StrictBooleanFilter
from programs.posts.choices import (
    AssessmentPeriodKind,
    PersonnelChangeKind,
    PersonnelChangeStatus,
    PostCategory,
    PostStatus,
    Rating,
    UrbanRural,
)
from programs.posts.models import (
    Assessment,
    AssessmentStandard,
    Assignment,
    Attendance,
    PersonnelChange,
    Post,
    PostStandard,
    SubsidyRun,
)
from programs.posts.selectors import held_on, with_filled
from tracker.api.filters import TrackerFilterSet


class PostStandardFilterSet(TrackerFilterSet):
    year = django_filters.NumberFilter(field_name="year", min_value=2000, max_value=2100)
    region = django_filters.CharFilter(field_name="region__code", max_length=12, label=_("County (code)"))

    class Meta:
        model = PostStandard
        fields = ["within", "year", "region"]


class PostFilterSet(TrackerFilterSet):
    category = django_filters.ChoiceFilter(choices=PostCategory.choices)
    status = django_filters.ChoiceFilter(choices=PostStatus.choices)
    urban_rural = django_filters.ChoiceFilter(choices=UrbanRural.choices)
    program = django_filters.CharFilter(field_name="program__code", max_length=64, label=_("Program (code)"))
    has_vacancy = StrictBooleanFilter(
        method="filter_has_vacancy", label=_("Open with fewer holders today than positions")
    )
    q = django_filters.CharFilter(
        field_name="title", lookup_expr="contains", max_length=100, label=_("Title contains")
    )

    class Meta:
        model = Post
        fields = ["within", "category", "status", "urban_rural", "program", "has_vacancy", "q"]

    def filter_has_vacancy(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        counted = with_filled(queryset)
        vacant = Q(status=PostStatus.OPEN, filled__lt=F("headcount"))
        return counted.filter(vacant) if value else counted.exclude(vacant)


class AssignmentFilterSet(TrackerFilterSet):
    post = IdFilter(field_name="post_id", label=_("Post id"))
    beneficiary = IdFilter(field_name="beneficiary_id", label=_("Beneficiary id"))
    active_on = django_filters.DateFilter(method="filter_active_on", label=_("Holding the post on the date"))
    contract_signed = StrictBooleanFilter(method="filter_contract_signed", label=_("A contract is signed"))

    class Meta:
        model = Assignment
        fields = ["within", "post", "beneficiary", "active_on", "contract_signed"]

    def filter_active_on(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        return queryset.filter(held_on(value))

    def filter_contract_signed(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return queryset.filter(contract_signed_on__isnull=not value)


class PersonnelChangeFilterSet(TrackerFilterSet):
    kind = django_filters.ChoiceFilter(choices=PersonnelChangeKind.choices)
    status = django_filters.ChoiceFilter(choices=PersonnelChangeStatus.choices)
    late = StrictBooleanFilter(field_name="late", label=_("Reported late"))
    post = IdFilter(field_name="post_id", label=_("Post id"))
    to = django_filters.DateFilter(
        field_name="effective_on", lookup_expr="lte", label=_("Effective on or before")
    )

    class Meta:
        model = PersonnelChange
        fields = ["within", "kind", "status", "late", "post", "to"]


# `from` is a Python keyword, so the filter is added by name.
PersonnelChangeFilterSet.base_filters["from"] = django_filters.DateFilter(
    field_name="effective_on", lookup_expr="gte", label=_("Effective on or after")
)


class AttendanceFilterSet(TrackerFilterSet):
    month = django_filters.CharFilter(field_name="month", max_length=7, label=_("Month (YYYY-MM)"))
    assignment = IdFilter(field_name="assignment_id", label=_("Assignment id"))
    post = IdFilter(field_name="assignment__post_id", label=_("Post id"))
    beneficiary = IdFilter(field_name="assignment__beneficiary_id", label=_("Beneficiary id"))

    class Meta:
        model = Attendance
        fields = ["within", "month", "assignment", "post", "beneficiary"]


class AssessmentStandardFilterSet(TrackerFilterSet):
    region = django_filters.CharFilter(field_name="region__code", max_length=12, label=_("Region (code)"))

    class Meta:
        model = AssessmentStandard
        fields = ["within", "region"]


class AssessmentFilterSet(TrackerFilterSet):
    assignment = IdFilter(field_name="assignment_id", label=_("Assignment id"))
    rating = django_filters.ChoiceFilter(choices=Rating.choices)
    period_kind = django_filters.ChoiceFilter(choices=AssessmentPeriodKind.choices)
    period = django_filters.CharFilter(field_name="period", max_length=7)

    class Meta:
        model = Assessment
        fields = ["within", "assignment", "rating", "period_kind", "period"]


class SubsidyRunFilterSet(TrackerFilterSet):
    month = django_filters.CharFilter(field_name="month", max_length=7, label=_("Month (YYYY-MM)"))

    class Meta:
        model = SubsidyRun
        fields = ["within", "month"]
