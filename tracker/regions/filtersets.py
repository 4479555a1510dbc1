import django_filters
from django.db.models import Q, QuerySet

from tracker.api.filters import TrackerFilterSet
from tracker.regions.choices import RegionLevel
from tracker.regions.models import Region


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
