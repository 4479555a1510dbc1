from tracker.api.viewsets import TrackerReadOnlyViewSet
from tracker.regions.api.serializers import RegionSerializer
from tracker.regions.filtersets import RegionFilterSet
from tracker.regions.models import Region


class RegionViewSet(TrackerReadOnlyViewSet):
    """Regions (GB/T 2260). Reference data: changed only by the seed and by superusers in the admin."""

    queryset = Region.objects.select_related("parent")
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    lookup_field = "code"
    lookup_value_regex = "[0-9A-Za-z]{6,12}"
    ordering_fields = ["id"]
