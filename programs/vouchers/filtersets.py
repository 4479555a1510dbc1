"""Filters of the voucher lists, by natural key (codes) where records have one, and the course search
workers use (`?occupation=&within=&starts_after=&q=`)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from beneficiaries.filtersets import IdFilter, StrictBooleanFilter
from programs.funding.choices import InstitutionStatus
from programs.funding.models import TrainingInstitution
from programs.vouchers.choices import SkillLevel, VoucherPayee, VoucherStatus
from programs.vouchers.models import CheckIn, Course, CourseSession, Voucher, VoucherPlan, VoucherType
from tracker.api.filters import TrackerFilterSet


class VoucherTypeFilterSet(TrackerFilterSet):
    code = django_filters.CharFilter(field_name="code", max_length=64)
    payee = django_filters.ChoiceFilter(choices=VoucherPayee.choices)
    program = django_filters.CharFilter(field_name="program__code", max_length=64, label=_("Program (code)"))
    q = django_filters.CharFilter(method="search", max_length=100, label=_("Search"))

    class Meta:
        model = VoucherType
        fields = ["within", "code", "payee", "program", "q"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(code__icontains=value) | Q(name_zh__contains=value) | Q(name_en__icontains=value)
        )


class VoucherPlanFilterSet(TrackerFilterSet):
    region = django_filters.CharFilter(field_name="region__code", max_length=12, label=_("Region (code)"))
    year = django_filters.NumberFilter(field_name="year", min_value=2000, max_value=2999)
    type = django_filters.CharFilter(field_name="type__code", max_length=64, label=_("Voucher type (code)"))

    class Meta:
        model = VoucherPlan
        fields = ["within", "region", "year", "type"]


class TrainingInstitutionFilterSet(TrackerFilterSet):
    status = django_filters.ChoiceFilter(choices=InstitutionStatus.choices)
    uscc = django_filters.CharFilter(field_name="uscc", max_length=18)
    q = django_filters.CharFilter(method="search", max_length=100, label=_("Search"))

    class Meta:
        model = TrainingInstitution
        fields = ["within", "status", "uscc", "q"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__contains=value) | Q(uscc__startswith=value.upper()))


class CourseFilterSet(TrackerFilterSet):
    """The course search: by occupation (its code, or a part of its name), region, start date and free
    text (title, occupation or institution)."""

    occupation = django_filters.CharFilter(method="filter_occupation", max_length=100, label=_("Occupation"))
    level = django_filters.ChoiceFilter(choices=SkillLevel.choices)
    institution = IdFilter(field_name="institution_id")
    starts_after = django_filters.DateFilter(
        field_name="starts_on", lookup_expr="gte", label=_("Starts on or after")
    )
    open_for_enrolment = StrictBooleanFilter(
        method="filter_open", label=_("Institution active and course not ended")
    )
    q = django_filters.CharFilter(method="search", max_length=100, label=_("Search"))

    class Meta:
        model = Course
        fields = ["within", "occupation", "level", "institution", "starts_after", "open_for_enrolment", "q"]

    def filter_occupation(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(occupation_code=value) | Q(occupation_name__contains=value))

    def filter_open(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        from django.utils import timezone

        condition = Q(institution__status=InstitutionStatus.ACTIVE, ends_on__gte=timezone.localdate())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(title__contains=value)
            | Q(occupation_name__contains=value)
            | Q(occupation_code__startswith=value)
            | Q(institution__name__contains=value)
            | Q(site_name__contains=value)
        )


class CourseSessionFilterSet(TrackerFilterSet):
    course = IdFilter(field_name="course_id")
    starts_after = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = CourseSession
        fields = ["within", "course", "starts_after", "starts_before"]


class VoucherFilterSet(TrackerFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=VoucherStatus.choices)
    type = django_filters.CharFilter(field_name="type__code", max_length=64, label=_("Voucher type (code)"))
    plan = IdFilter(field_name="plan_id")
    holder = IdFilter(field_name="holder_id", label=_("Holder (beneficiary id)"))
    course = IdFilter(field_name="course_id")
    institution = IdFilter(field_name="course__institution_id", label=_("Training institution (id)"))
    issued_from = django_filters.DateFilter(
        field_name="issued_at", lookup_expr="date__gte", label=_("Issued on or after")
    )
    issued_to = django_filters.DateFilter(
        field_name="issued_at", lookup_expr="date__lte", label=_("Issued on or before")
    )

    class Meta:
        model = Voucher
        fields = [
            "status",
            "type",
            "plan",
            "holder",
            "course",
            "institution",
            "within",
            "issued_from",
            "issued_to",
        ]


class CheckInFilterSet(django_filters.FilterSet):
    session = IdFilter(field_name="session_id")
    accepted = StrictBooleanFilter()

    class Meta:
        model = CheckIn
        fields = ["session", "accepted"]
