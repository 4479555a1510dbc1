import django_filters

from tracker.api.filters import WithinFilter
from tracker.changelog.context import Source
from tracker.changelog.models import ChangeEntry


class ChangeEntryFilterSet(django_filters.FilterSet):
    model = django_filters.CharFilter(field_name="model", max_length=100)
    object_id = django_filters.CharFilter(field_name="object_id", max_length=64)
    actor = django_filters.CharFilter(field_name="actor_name", max_length=150)
    action = django_filters.CharFilter(field_name="action", max_length=32)
    source = django_filters.ChoiceFilter(choices=Source.choices)
    request_id = django_filters.CharFilter(field_name="request_id", max_length=64)
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")
    within = WithinFilter()

    class Meta:
        model = ChangeEntry
        fields = ["model", "object_id", "actor", "action", "source", "request_id", "since", "until", "within"]
