"""Filters of the entrepreneurship lists."""

from __future__ import annotations

import django_filters

from programs.entrepreneurship.choices import EntrepreneurKind
from programs.entrepreneurship.models import Entrepreneur, GuaranteedLoan
from tracker.api.filters import IdFilter, TrackerFilterSet


class EntrepreneurFilterSet(TrackerFilterSet):
    kind = django_filters.ChoiceFilter(choices=EntrepreneurKind.choices)
    supported_from = django_filters.DateFilter(field_name="supported_on", lookup_expr="gte")
    supported_to = django_filters.DateFilter(field_name="supported_on", lookup_expr="lte")

    class Meta:
        model = Entrepreneur
        fields = ["within", "kind", "supported_from", "supported_to"]


class GuaranteedLoanFilterSet(TrackerFilterSet):
    entrepreneur = IdFilter(field_name="entrepreneur_id")
    issued_from = django_filters.DateFilter(field_name="issued_on", lookup_expr="gte")
    issued_to = django_filters.DateFilter(field_name="issued_on", lookup_expr="lte")

    class Meta:
        model = GuaranteedLoan
        fields = ["within", "entrepreneur", "issued_from", "issued_to"]
