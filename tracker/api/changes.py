"""The change log's API: `GET /api/v1/audit/changes/` (newest first, scoped by region) and its
`verify/`."""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import ReadOnlyModelViewSet

from tracker.api.filters import WithinFilter
from tracker.api.history import ChangeEntrySerializer
from tracker.api.jobs import JobSerializer, accepted
from tracker.api.query import query_param
from tracker.api.viewsets import ScopedViewSetMixin
from tracker.changelog.context import Source
from tracker.changelog.entries import ChangeEntry
from tracker.changelog.selectors import changes_verify
from tracker.jobs.services import job_enqueue
from tracker.regions.models import Region
from tracker.scope import path_within, user_scope


class VerifyProblemSerializer(serializers.Serializer):
    entry = serializers.IntegerField(allow_null=True)
    object = serializers.CharField()
    problem = serializers.CharField()


class VerifyResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField(help_text="Entries checked.")
    rows_checked = serializers.IntegerField(help_text="Live records checked against their last entry.")
    checkpoints_checked = serializers.IntegerField(help_text="Links of the checkpoint chain recomputed.")
    problems = VerifyProblemSerializer(many=True)


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


class ChangeEntryViewSet(ScopedViewSetMixin, ReadOnlyModelViewSet):
    """The change log, newest first, scoped to the caller's region like everything else."""

    queryset = ChangeEntry.objects.all()
    serializer_class = ChangeEntrySerializer
    filterset_class = ChangeEntryFilterSet
    ordering_fields = ["id"]

    @extend_schema(
        parameters=[
            OpenApiParameter("within", OpenApiTypes.STR, description="Region code"),
            OpenApiParameter(
                "background",
                OpenApiTypes.BOOL,
                description="Run as a background job (202) whatever the size; larger scopes always do.",
            ),
        ],
        responses={200: VerifyResultSerializer, 202: JobSerializer},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def verify(self, request: Request) -> Response:
        """Re-check the HMAC of every entry in scope and each object's unbroken history. A scope of
        more than VERIFY_JOB_THRESHOLD_ENTRIES entries (or `background=true`) is verified by a
        background job: 202 with the job, whose result is this answer."""
        user_path = request.user.scope_path or ""
        region = request.user.region
        code = query_param(request, "within")
        background = query_param(request, "background", choices=("true", "false"), default="false") == "true"
        if code:
            region = Region.objects.visible_to(request.user).filter(code=code).first()
            if region is None or not path_within(region.path, user_scope(request.user)):
                return Response(
                    {"ok": True, "checked": 0, "rows_checked": 0, "checkpoints_checked": 0, "problems": []}
                )
        elif not user_path:  # the whole country: its job runs at the root (a superuser may have no region)
            region = Region.objects.filter(parent__isnull=True).order_by("path").first()
        path = region.path if code else user_path
        threshold = settings.VERIFY_JOB_THRESHOLD_ENTRIES
        entries = ChangeEntry.objects.filter(region_path__within=path) if path else ChangeEntry.objects.all()
        if region is not None and (background or entries[: threshold + 1].count() > threshold):
            job = job_enqueue(kind="changes_verify", actor=request.user, region=region)
            return accepted(request, job)
        return Response(changes_verify(within_path=path or None))

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action == "verify":
            return queryset
        return super().filter_queryset(queryset)


router = SimpleRouter()
router.register("audit/changes", ChangeEntryViewSet, basename="changeentry")
urlpatterns = router.urls

__all__ = ["ChangeEntrySerializer", "ChangeEntryViewSet", "urlpatterns"]
