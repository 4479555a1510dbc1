"""Background jobs over HTTP: `GET /api/v1/jobs/` and `/jobs/{id}/` (scoped like everything else),
`POST /jobs/{id}/cancel/`, and `GET /jobs/{id}/result/` (the result file, to users who may see the
job, until it expires)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import SimpleRouter

from tracker.accounts.choices import Role
from tracker.api.reads import ReadColumn
from tracker.api.viewsets import ScopedViewSetMixin
from tracker.jobs.models import Job, JobStatus
from tracker.jobs.registry import job_kinds
from tracker.jobs.services import job_cancel, job_result_path, jobs_reap


class JobSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status = serializers.ChoiceField(choices=JobStatus.choices, read_only=True)
    has_result_file = serializers.SerializerMethodField(help_text=_("A file is ready at .../result/."))

    read_has_result_file = ReadColumn(("result_file",), lambda row: bool(row["result_file"]))

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "parameters",
            "requested_by",
            "region",
            "progress_done",
            "progress_total",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "result",
            "has_result_file",
            "result_expires_at",
            "error",
        ]
        read_only_fields = fields

    def get_has_result_file(self, obj: Job) -> bool:
        return bool(obj.result_file)


def job_url(request: Request, job: Job) -> str:
    return reverse("job-detail", kwargs={"pk": job.pk}, request=request)


def accepted(request: Request, job: Job) -> Response:
    """202 Accepted with the job, and its URL in Location: the answer of any work run as a job."""
    response = Response(JobSerializer(job).data, status=202)
    response["Location"] = job_url(request, job)
    return response


class JobViewSet(
    ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Jobs, newest first, scoped by the region they work on."""

    queryset = Job.objects.all()
    serializer_class = JobSerializer
    filterset_class = None
    ordering_fields = ["id"]
    action_roles = {"cancel": set(Role.values)}
    compiled_reads = False  # get_queryset() reaps silent jobs first

    def get_queryset(self) -> Any:
        jobs_reap()  # a job whose worker went silent is queued again or failed, never "running" for ever
        return super().get_queryset()

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"], filterset_class=None)
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cancel a queued or running job (the requester or an administrator)."""
        job = job_cancel(job=self.get_object(), actor=request.user)
        return Response(JobSerializer(job).data)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def result(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        """The job's result file (an export), to users who may see the job, until it expires."""
        job = self.get_object()
        path = job_result_path(job)
        if path is None:
            raise NotFound(_("This job has no result file, or it has expired."))
        return FileResponse(open(path, "rb"), as_attachment=True, filename=job.result_name or None)


router = SimpleRouter()
router.register("jobs", JobViewSet, basename="job")
urlpatterns = router.urls

__all__ = ["JobSerializer", "accepted", "job_kinds", "urlpatterns"]
