"""Filters shared by every filterset: `within` (a region code: its whole subtree)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _


class WithinFilter(django_filters.CharFilter):
    """?within=360300 keeps records whose region lies in that region's subtree. An unknown code
    matches nothing (a 200 with an empty page), like any filter value that matches no record."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Within region (code)"))
        kwargs.setdefault("max_length", 12)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if not value:
            return qs
        from tracker.regions.models import Region

        path = Region.path_for_code(value)
        if path is None:
            return qs.none()
        return qs.within(path)


class TrackerFilterSet(django_filters.FilterSet):
    within = WithinFilter()
