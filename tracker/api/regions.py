"""The region tree's API: `GET /api/v1/regions/` (filters `level`, `parent`, `within`, `q`) and
`GET /api/v1/regions/{code}/`; and the fields other APIs use to name a region by its code."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from tracker.api.filters import TrackerFilterSet
from tracker.api.viewsets import TrackerReadOnlyViewSet
from tracker.regions.choices import RegionLevel
from tracker.regions.models import Region


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Region
        fields = ["id", "code", "name_zh", "name_en", "level", "parent", "path", "local_code", "designations"]


class RegionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name_zh", "name_en", "level"]


class RegionCodeField(serializers.SlugRelatedField):
    """A region given by its code. Any real region is accepted here; whether the caller may write
    there is checked after the write, in the transaction (403 outside their scope)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("queryset", Region.objects.all())
        super().__init__(**kwargs)


class RegionFilterSet(TrackerFilterSet):
    level = django_filters.ChoiceFilter(choices=RegionLevel.choices)
    parent = django_filters.CharFilter(field_name="parent__code", max_length=12)
    q = django_filters.CharFilter(method="search", max_length=100)

    class Meta:
        model = Region
        fields = ["level", "parent", "within", "q"]

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(code__startswith=value) | Q(name_zh__contains=value) | Q(name_en__icontains=value)
        )


class RegionViewSet(TrackerReadOnlyViewSet):
    """Regions (GB/T 2260). Reference data: changed only by the seed and by superusers in the admin."""

    queryset = Region.objects.select_related("parent")
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    lookup_field = "code"
    lookup_value_regex = "[0-9A-Za-z]{6,12}"
    ordering_fields = ["id"]


router = SimpleRouter()
router.register("regions", RegionViewSet)
urlpatterns = router.urls
